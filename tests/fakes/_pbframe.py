"""The protobuf ``pbbp2.Frame`` of Feishu's long connection, encoded and decoded by hand.

Schema (``lark_oapi/ws/pb/pbbp2_pb2.py``, proto2, package ``pbbp2``)::

    message Header { required string key = 1; required string value = 2; }
    message Frame {
        required uint64 SeqID = 1;   required uint64 LogID = 2;
        required int32 service = 3;  required int32 method = 4;   // 0 CONTROL, 1 DATA
        repeated Header headers = 5;
        optional string payload_encoding = 6;  optional string payload_type = 7;
        optional bytes payload = 8;            optional string LogIDNew = 9;
    }

Written from the wire format (varints and length-delimited fields) rather than with the SDK's
vendored protobuf runtime, so that the fake does not prove the SDK against itself. The four
required fields are always written: the SDK's parser refuses a frame without them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

METHOD_CONTROL = 0
METHOD_DATA = 1

_VARINT = 0
_LENGTH = 2


@dataclass
class Frame:
    seq_id: int = 0
    log_id: int = 0
    service: int = 0
    method: int = METHOD_CONTROL
    headers: list[tuple[str, str]] = field(default_factory=list)
    payload_encoding: str | None = None
    payload_type: str | None = None
    payload: bytes | None = None
    log_id_new: str | None = None

    def header(self, key: str) -> str | None:
        for name, value in self.headers:
            if name == key:
                return value
        return None


def _varint(value: int) -> bytes:
    if value < 0:
        value &= (1 << 64) - 1  # negative int32/int64 are written as ten-byte two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _key(number, _LENGTH) + _varint(len(data)) + data


def encode(frame: Frame) -> bytes:
    out = bytearray()
    out += _key(1, _VARINT) + _varint(frame.seq_id)
    out += _key(2, _VARINT) + _varint(frame.log_id)
    out += _key(3, _VARINT) + _varint(frame.service)
    out += _key(4, _VARINT) + _varint(frame.method)
    for name, value in frame.headers:
        header = _bytes_field(1, name.encode("utf-8")) + _bytes_field(2, value.encode("utf-8"))
        out += _bytes_field(5, header)
    if frame.payload_encoding is not None:
        out += _bytes_field(6, frame.payload_encoding.encode("utf-8"))
    if frame.payload_type is not None:
        out += _bytes_field(7, frame.payload_type.encode("utf-8"))
    if frame.payload is not None:
        out += _bytes_field(8, frame.payload)
    if frame.log_id_new is not None:
        out += _bytes_field(9, frame.log_id_new.encode("utf-8"))
    return bytes(out)


class DecodeError(ValueError):
    pass


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise DecodeError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    fields: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, pos = _read_varint(data, pos)
            fields.append((number, value))
        elif wire_type == _LENGTH:
            size, pos = _read_varint(data, pos)
            if pos + size > len(data):
                raise DecodeError("truncated field")
            fields.append((number, data[pos : pos + size]))
            pos += size
        elif wire_type == 1:  # 64-bit: not in this schema, skipped
            pos += 8
        elif wire_type == 5:  # 32-bit
            pos += 4
        else:
            raise DecodeError(f"unsupported wire type {wire_type}")
    return fields


def _signed32(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def decode(data: bytes) -> Frame:
    frame = Frame()
    seen: set[int] = set()
    for number, value in _fields(data):
        seen.add(number)
        if isinstance(value, int):
            if number == 1:
                frame.seq_id = value
            elif number == 2:
                frame.log_id = value
            elif number == 3:
                frame.service = _signed32(value)
            elif number == 4:
                frame.method = _signed32(value)
            continue
        if number == 5:
            key = val = ""
            for sub_number, sub_value in _fields(value):
                if isinstance(sub_value, bytes):
                    if sub_number == 1:
                        key = sub_value.decode("utf-8")
                    elif sub_number == 2:
                        val = sub_value.decode("utf-8")
            frame.headers.append((key, val))
        elif number == 6:
            frame.payload_encoding = value.decode("utf-8")
        elif number == 7:
            frame.payload_type = value.decode("utf-8")
        elif number == 8:
            frame.payload = value
        elif number == 9:
            frame.log_id_new = value.decode("utf-8")
    missing = {1, 2, 3, 4} - seen
    if missing:
        raise DecodeError(f"missing required fields {sorted(missing)}")
    return frame
