"""raw6 telemetry: streaming FITS reader/writer, bit-field decoding and centre-and-scale.

A raw6 file is a gzip-compressed FITS file: HDU0 carries ``BAND`` (1 NUV, 2 FUV) and
``ECLIPSE``; HDU1 is a binary table with one row per detector event, ``t`` (GALEX time,
seconds since 1980-01-06, no leap seconds) and the packed bytes ``phb1..phb5`` (``phb6`` is
unused). gPhoton 2 reads the whole table at once; we stream it in row chunks so memory stays
bounded however long the eclipse is.

Bit layout (gPhoton 2 ``bitwise_decode_photonbytes``, mission L0 processing), with
p1..p5 = phb1..phb5::

    p1 = [xb:3 | xamc bits 11..7]      p2 = [xamc bits 6..0 | yb bit 2]
    p3 = [yb bits 1..0 | yamc 11..6]   p4 = [yamc bits 5..0 | q bits 4..3]
    p5 = [q bits 2..0 | xa bit 0 | xa bits 2..1 | xa bits 4..3]

xamc and yamc are 12-bit two's-complement numbers (-2048..2047); xb, yb are 0..7 and q,
xa are 0..31.
"""

from .fields import center_and_scale, decode_columns, encode_fields
from .reader import Raw6Header, Raw6Reader, read_raw6_header
from .writer import write_raw6

# The numpy references of the kernels live in .fields, next to them.
__all__ = ["Raw6Header", "Raw6Reader", "center_and_scale", "decode_columns", "encode_fields",
           "read_raw6_header", "write_raw6"]  # fmt: skip
