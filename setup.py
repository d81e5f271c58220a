from setuptools import find_packages, setup

setup(
    name="videossl",
    version="0.1.0",
    description="Self-supervised video representation learning in the PySlowFast tradition",
    packages=find_packages(include=["videossl", "videossl.*"]),
    python_requires=">=3.10",
    install_requires=[
        "torch>=2.1",
        "torchvision>=0.16",
        "av>=12",
        "fvcore",
        "yacs",
        "simplejson",
        "iopath",
        "tensorboard",
        "timm>=1.0",
        "numpy",
        "pillow",
        "numba",
    ],
    extras_require={
        "test": ["pytest", "pytest-timeout"],
        "torchcodec": ["torchcodec"],
        "cluster": ["submitit"],
        "flow": ["opencv-contrib-python-headless"],
        "plots": ["matplotlib"],
    },
)
