"""Which H.264 / HEVC packets no other picture depends on, read from the bitstream without decoding.

Such a packet may be left out of the decoder's input and every other picture
decodes exactly as before: it is the sub-bitstream that FFmpeg's
``skip_frame=nonref`` decodes.  The reader uses this to skip the
non-reference pictures it does not need, which in x264's and x265's default
encodes (B frames, B-pyramid) are about a third of all pictures.

* **H.264**: a picture whose slices carry ``nal_ref_idc == 0`` (H.264 7.4.1) is
  never used for prediction.
* **HEVC**: a sub-layer non-reference picture (``nal_unit_type`` 0, 2, ..., 14:
  ``TRAIL_N``, ``RASL_N``, ...) in the highest temporal sub-layer
  (H.265 3.132; FFmpeg applies the same rule).  The number of sub-layers comes
  from the ``hvcC`` extradata; a stream that does not state it is never skipped.

Packets come either length-prefixed (MP4/MKV: ``avcC`` / ``hvcC`` extradata, which
gives the prefix size) or, for H.264 only, in Annex B with ``00 00 01`` start
codes (MPEG-TS, raw ``.h264``).  Anything unexpected (another codec, a
malformed packet, no slice found) answers "needed", so the worst a parse can do
is to skip nothing.
"""

from typing import Callable, Optional

_H264_SLICES = frozenset((1, 2, 3, 4, 5))  # non-IDR slice, data partitions A-C, IDR slice
_HEVC_SLNR = frozenset(range(0, 16, 2))  # TRAIL_N, TSA_N, STSA_N, RADL_N, RASL_N, RSV_VCL_N10/12/14


def _first_vcl_length_prefixed(data: memoryview, length_size: int, header_size: int, is_vcl) -> Optional[bytes]:
    """The header bytes of the first VCL NAL unit of a length-prefixed packet (None: none, or malformed)."""
    pos, end = 0, len(data)
    while pos + length_size + header_size <= end:
        size = int.from_bytes(data[pos:pos + length_size], "big")
        if size < header_size or pos + length_size + size > end:
            return None  # malformed: a NAL unit shorter than its header, or longer than the packet
        header = bytes(data[pos + length_size:pos + length_size + header_size])
        if is_vcl(header):
            return header
        pos += length_size + size
    return None


def _first_vcl_annexb(data: bytes, is_vcl) -> Optional[bytes]:
    pos = data.find(b"\x00\x00\x01")
    while 0 <= pos < len(data) - 3:
        header = data[pos + 3:pos + 4]
        if is_vcl(header):
            return header
        pos = data.find(b"\x00\x00\x01", pos + 3)
    return None


def _h264_is_vcl(header: bytes) -> bool:
    return header[0] & 0x1F in _H264_SLICES


def _hevc_is_vcl(header: bytes) -> bool:
    return (header[0] >> 1) & 0x3F < 32


def nonreference_test(codec_name: str, extradata: Optional[bytes]) -> Optional[Callable[[object], bool]]:
    """A function ``packet -> bool`` that is True only for packets holding a picture no other picture
    refers to, or None when the stream gives no safe way to tell (nothing is ever skipped then).

    ``packet`` is anything exposing the buffer protocol over the packet's bytes (a PyAV
    ``Packet``, ``bytes``).  Example: for H.264 with 4-byte lengths (``avcC`` extradata) a packet
    ``00 00 00 02 01 9e`` holds one slice NAL with header ``0x01`` (``nal_ref_idc`` 0, type 1): True.
    """
    extradata = bytes(extradata or b"")
    if codec_name == "h264":
        if len(extradata) >= 7 and extradata[0] == 1:  # avcC: lengthSizeMinusOne in byte 4
            length_size = (extradata[4] & 3) + 1

            def first_vcl(packet) -> Optional[bytes]:
                return _first_vcl_length_prefixed(memoryview(packet), length_size, 1, _h264_is_vcl)
        else:
            def first_vcl(packet) -> Optional[bytes]:
                return _first_vcl_annexb(bytes(packet), _h264_is_vcl)

        def droppable(header: bytes) -> bool:
            return (header[0] >> 5) & 3 == 0
    elif codec_name == "hevc":
        if len(extradata) < 23 or extradata[0] != 1:
            return None  # Annex B or no hvcC: the number of temporal sub-layers is not stated
        sub_layers = (extradata[21] >> 3) & 7  # numTemporalLayers (0 = unknown)
        length_size = (extradata[21] & 3) + 1
        if sub_layers == 0:
            return None

        def first_vcl(packet) -> Optional[bytes]:
            return _first_vcl_length_prefixed(memoryview(packet), length_size, 2, _hevc_is_vcl)

        def droppable(header: bytes) -> bool:
            nal_type, layer = (header[0] >> 1) & 0x3F, ((header[0] & 1) << 5) | (header[1] >> 3)
            temporal_id = (header[1] & 7) - 1
            return nal_type in _HEVC_SLNR and layer == 0 and temporal_id == sub_layers - 1
    else:
        return None

    def is_nonreference(packet) -> bool:
        try:
            header = first_vcl(packet)
        except (IndexError, ValueError, TypeError):
            return False
        return header is not None and droppable(header)

    return is_nonreference
