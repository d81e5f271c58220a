"""Video transforms: crop boxes, clip-consistent colour, and the per-clip pipeline."""

from .clip_aug import ClipParams, ClipTransform, ColorConfig
from .on_device import augment_batch
from .color import ColorParams, apply_color, sample_color
from .spatial import crop_resize, jitter_crop_box, random_resized_crop_box, uniform_crop_box

__all__ = ["ClipParams", "ClipTransform", "ColorConfig", "augment_batch", "ColorParams", "apply_color", "sample_color",
           "crop_resize", "jitter_crop_box", "random_resized_crop_box", "uniform_crop_box"]
