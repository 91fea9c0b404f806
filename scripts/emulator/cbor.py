"""A minimal CBOR (RFC 8949) encoder and decoder, for the Smithy RPC v2 CBOR protocol.

Only what that protocol carries: integers, floats (decoded from half, single and double
precision; always encoded as double), text and byte strings, arrays and maps (definite or
indefinite length), booleans, null/undefined, and tags (tag 1, epoch-seconds timestamps, is
decoded to an aware `datetime`; other tags to `Tag`). Standard library only, so the emulator
needs nothing beyond moto.
"""

from __future__ import annotations

import datetime as _dt
import struct

BREAK = object()


class Tag:
    """A CBOR tag other than 1 (timestamps): the tag number and its content."""

    def __init__(self, tag: int, value):
        self.tag = tag
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Tag) and (self.tag, self.value) == (other.tag, other.value)

    def __repr__(self):
        return f"Tag({self.tag}, {self.value!r})"


class CBORError(ValueError):
    pass


# ---------------------------------------------------------------------------------------------
# Encoding


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([(major << 5) | n])
    if n < 0x100:
        return bytes([(major << 5) | 24, n])
    if n < 0x10000:
        return bytes([(major << 5) | 25]) + struct.pack(">H", n)
    if n < 0x100000000:
        return bytes([(major << 5) | 26]) + struct.pack(">I", n)
    if n < 0x10000000000000000:
        return bytes([(major << 5) | 27]) + struct.pack(">Q", n)
    raise CBORError(f"integer {n} does not fit in 64 bits")


def encode(value) -> bytes:
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _encode(value, out: bytearray) -> None:
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        out += _head(0, value) if value >= 0 else _head(1, -1 - value)
    elif isinstance(value, float):
        out.append(0xFB)
        out += struct.pack(">d", value)
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        out += _head(3, len(raw)) + raw
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        out += _head(2, len(raw)) + raw
    elif isinstance(value, _dt.datetime):
        # Smithy timestamps: tag 1 over epoch seconds (a double keeps the milliseconds).
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        out += _head(6, 1)
        _encode(float(value.timestamp()), out)
    elif isinstance(value, Tag):
        out += _head(6, value.tag)
        _encode(value.value, out)
    elif isinstance(value, (list, tuple)):
        out += _head(4, len(value))
        for item in value:
            _encode(item, out)
    elif isinstance(value, dict):
        out += _head(5, len(value))
        for k, v in value.items():
            _encode(k, out)
            _encode(v, out)
    else:
        raise CBORError(f"cannot encode {type(value).__name__} as CBOR")


# ---------------------------------------------------------------------------------------------
# Decoding


def decode(data: bytes):
    """Decode exactly one CBOR data item; trailing bytes are an error."""
    dec = _Decoder(bytes(data))
    value = dec.item()
    if value is BREAK:
        raise CBORError("unexpected break")
    if dec.pos != len(dec.data):
        raise CBORError(f"{len(dec.data) - dec.pos} trailing bytes after the CBOR item")
    return value


def _half(bits: int) -> float:
    sign = -1.0 if bits & 0x8000 else 1.0
    exp = (bits >> 10) & 0x1F
    frac = bits & 0x3FF
    if exp == 0:
        return sign * frac * 2.0**-24
    if exp == 31:
        return sign * float("inf") if frac == 0 else float("nan")
    return sign * (1 + frac / 1024.0) * 2.0 ** (exp - 15)


class _Decoder:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise CBORError("truncated CBOR data")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def arg(self, info: int) -> int | None:
        if info < 24:
            return info
        if info == 24:
            return self.take(1)[0]
        if info == 25:
            return struct.unpack(">H", self.take(2))[0]
        if info == 26:
            return struct.unpack(">I", self.take(4))[0]
        if info == 27:
            return struct.unpack(">Q", self.take(8))[0]
        if info == 31:
            return None  # indefinite length
        raise CBORError(f"reserved additional information {info}")

    def item(self):
        initial = self.take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            return self.simple(info)
        n = self.arg(info)
        if major == 0:
            return n
        if major == 1:
            return -1 - n
        if major in (2, 3):
            if n is None:
                parts = []
                while True:
                    part = self.item()
                    if part is BREAK:
                        break
                    if not isinstance(part, (bytes, str)) or (major == 3) != isinstance(part, str):
                        raise CBORError("bad chunk in an indefinite-length string")
                    parts.append(part)
                return "".join(parts) if major == 3 else b"".join(parts)
            raw = self.take(n)
            return raw.decode("utf-8") if major == 3 else raw
        if major == 4:
            items = []
            while n is None or len(items) < n:
                value = self.item()
                if value is BREAK:
                    if n is None:
                        break
                    raise CBORError("unexpected break in an array")
                items.append(value)
            return items
        if major == 5:
            result = {}
            count = 0
            while n is None or count < n:
                key = self.item()
                if key is BREAK:
                    if n is None:
                        break
                    raise CBORError("unexpected break in a map")
                value = self.item()
                if value is BREAK:
                    raise CBORError("map key without value")
                result[key] = value
                count += 1
            return result
        if major == 6:
            if n is None:
                raise CBORError("indefinite tag")
            content = self.item()
            if n == 1 and isinstance(content, (int, float)) and not isinstance(content, bool):
                return _dt.datetime.fromtimestamp(content, tz=_dt.timezone.utc)
            return Tag(n, content)
        raise CBORError(f"unknown major type {major}")

    def simple(self, info: int):
        if info == 20:
            return False
        if info == 21:
            return True
        if info in (22, 23):
            return None
        if info == 25:
            return _half(struct.unpack(">H", self.take(2))[0])
        if info == 26:
            return struct.unpack(">f", self.take(4))[0]
        if info == 27:
            return struct.unpack(">d", self.take(8))[0]
        if info == 31:
            return BREAK
        if info < 24:
            return Tag(-1, info)  # unassigned simple value, kept as is
        if info == 24:
            return Tag(-1, self.take(1)[0])
        raise CBORError(f"bad simple value {info}")
