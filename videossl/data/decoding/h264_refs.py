"""Which H.264 packets no other frame depends on, read from the bitstream without decoding.

A coded picture whose slices carry ``nal_ref_idc == 0`` (H.264 7.4.1) is never
used to predict another picture, so a decoder may be fed the stream without it
and every other picture decodes exactly as before (it is the sub-bitstream that
FFmpeg's ``skip_frame=nonref`` decodes).  The reader uses this to skip the
non-reference pictures it does not need, which in x264's default encodes (B
frames, B-pyramid) are about a third of all pictures.

Packets come either length-prefixed (MP4/MKV, ``avcC`` extradata: the prefix
size is ``(extradata[4] & 3) + 1`` bytes) or in Annex B with ``00 00 01``
start codes (MPEG-TS, raw ``.h264``).  Anything unexpected (another codec, a
malformed packet, no slice found) answers "needed", so the worst a parse can do
is to skip nothing.
"""

from typing import Callable, Optional

# nal_unit_type of the coded slices of a primary picture: 1 non-IDR slice, 2-4 data partitions, 5 IDR
_SLICE_TYPES = (1, 2, 3, 4, 5)


def _first_slice_header_avcc(data: memoryview, length_size: int) -> Optional[int]:
    pos, end = 0, len(data)
    while pos + length_size < end:
        size = int.from_bytes(data[pos:pos + length_size], "big")
        if size <= 0 or pos + length_size + size > end:
            return None  # malformed: a NAL unit longer than the packet
        header = data[pos + length_size]
        if header & 0x1F in _SLICE_TYPES:
            return header
        pos += length_size + size
    return None


def _first_slice_header_annexb(data: bytes) -> Optional[int]:
    pos = data.find(b"\x00\x00\x01")
    while 0 <= pos < len(data) - 3:
        header = data[pos + 3]
        if header & 0x1F in _SLICE_TYPES:
            return header
        pos = data.find(b"\x00\x00\x01", pos + 3)
    return None


def nonreference_test(codec_name: str, extradata: Optional[bytes]) -> Optional[Callable[[object], bool]]:
    """A function ``packet -> bool`` that is True only for packets holding a non-reference H.264
    picture, or None when the stream is not H.264 (nothing is ever skipped then).

    ``packet`` is anything exposing the buffer protocol over the packet's bytes (a PyAV
    ``Packet``, ``bytes``).  Example: with length-prefixed packets (4-byte lengths) a packet
    ``00 00 00 02 01 9e`` holds one slice NAL with header ``0x01`` (``nal_ref_idc`` 0, type 1): True.
    """
    if codec_name != "h264":
        return None
    if extradata and len(extradata) >= 7 and extradata[0] == 1:  # avcC: length-prefixed packets
        length_size = (extradata[4] & 3) + 1

        def header_of(packet) -> Optional[int]:
            return _first_slice_header_avcc(memoryview(packet), length_size)
    else:
        def header_of(packet) -> Optional[int]:
            return _first_slice_header_annexb(bytes(packet))

    def is_nonreference(packet) -> bool:
        try:
            header = header_of(packet)
        except (IndexError, ValueError, TypeError):
            return False
        return header is not None and (header >> 5) & 3 == 0

    return is_nonreference
