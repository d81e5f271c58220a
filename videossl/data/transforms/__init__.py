"""Video transforms: crop boxes, clip-consistent colour, the per-clip pipeline and its batched twin."""

from .clip_aug import ClipParams, ClipTransform, ColorConfig, params_from_row, params_to_row
from .color import ColorParams, apply_color, apply_color_batch, sample_color
from .on_device import BatchAugmenter, augment_clips
from .spatial import crop_resize, jitter_crop_box, random_resized_crop_box, uniform_crop_box

__all__ = ["ClipParams", "ClipTransform", "ColorConfig", "params_from_row", "params_to_row", "ColorParams",
           "apply_color", "apply_color_batch", "sample_color", "BatchAugmenter", "augment_clips",
           "crop_resize", "jitter_crop_box", "random_resized_crop_box", "uniform_crop_box"]
