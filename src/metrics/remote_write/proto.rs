//! The remote-write 1.0 payload: a protobuf `WriteRequest`, snappy-compressed (block format).
//!
//! Four tiny messages do not justify a code generator, so they are encoded by hand:
//!
//! ```text
//! message WriteRequest { repeated TimeSeries timeseries = 1; }   // 2 and 3 reserved
//! message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//! message Label        { string name = 1; string value = 2; }
//! message Sample       { double value = 1; int64 timestamp = 2; }  // timestamp in ms
//! ```

use super::Label;

/// The bit pattern Prometheus uses to mark a series stale. It must reach the receiver bit for
/// bit: any other NaN is an ordinary (if odd) sample value.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The stale-marker value.
pub fn stale_marker() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

// Field keys: (field number << 3) | wire type (0 varint, 1 64-bit, 2 length-delimited).
const WRITE_REQUEST_TIMESERIES: u8 = 1 << 3 | 2;
const TIMESERIES_LABELS: u8 = 1 << 3 | 2;
const TIMESERIES_SAMPLES: u8 = 2 << 3 | 2;
const LABEL_NAME: u8 = 1 << 3 | 2;
const LABEL_VALUE: u8 = 2 << 3 | 2;
const SAMPLE_VALUE: u8 = 1 << 3 | 1;
const SAMPLE_TIMESTAMP: u8 = 2 << 3;

/// Appends a `WriteRequest` holding one sample per series, all at `timestamp_ms`.
pub fn encode_write_request<'a, I>(series: I, timestamp_ms: i64, out: &mut Vec<u8>)
where
    I: IntoIterator<Item = (&'a [Label], f64)>,
{
    // Two's complement, as protobuf encodes a negative int64.
    let timestamp = timestamp_ms as u64;
    let sample_len = 1 + 8 + 1 + varint_len(timestamp);
    for (labels, value) in series {
        let labels_len: usize = labels
            .iter()
            .map(|label| {
                let len = label_len(label);
                1 + varint_len(len as u64) + len
            })
            .sum();
        let series_len = labels_len + 1 + varint_len(sample_len as u64) + sample_len;

        out.push(WRITE_REQUEST_TIMESERIES);
        write_varint(out, series_len as u64);
        for label in labels {
            out.push(TIMESERIES_LABELS);
            write_varint(out, label_len(label) as u64);
            write_bytes_field(out, LABEL_NAME, label.name.as_bytes());
            write_bytes_field(out, LABEL_VALUE, label.value.as_bytes());
        }
        out.push(TIMESERIES_SAMPLES);
        write_varint(out, sample_len as u64);
        out.push(SAMPLE_VALUE);
        out.extend_from_slice(&value.to_bits().to_le_bytes());
        out.push(SAMPLE_TIMESTAMP);
        write_varint(out, timestamp);
    }
}

/// Compresses an encoded request with the snappy block format (the spec forbids the framed
/// format).
pub fn compress(request: &[u8]) -> Result<Vec<u8>, snap::Error> {
    snap::raw::Encoder::new().compress_vec(request)
}

fn label_len(label: &Label) -> usize {
    let (name, value) = (label.name.len(), label.value.len());
    1 + varint_len(name as u64) + name + 1 + varint_len(value as u64) + value
}

fn write_bytes_field(out: &mut Vec<u8>, key: u8, bytes: &[u8]) {
    out.push(key);
    write_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn varint_len(value: u64) -> usize {
    // 7 payload bits per byte; 0 still takes one byte.
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// A minimal decoder of what [`encode_write_request`] writes, for tests that inspect requests.
#[cfg(test)]
pub(crate) mod decode {
    /// Each series as (labels, samples as (value bits, timestamp ms)).
    pub type DecodedSeries = (Vec<(String, String)>, Vec<(u64, i64)>);

    pub fn write_request(mut buf: &[u8]) -> Vec<DecodedSeries> {
        let mut series = Vec::new();
        while !buf.is_empty() {
            let (key, body) = field(&mut buf);
            assert_eq!(key, super::WRITE_REQUEST_TIMESERIES);
            series.push(time_series(body));
        }
        series
    }

    fn time_series(mut buf: &[u8]) -> DecodedSeries {
        let (mut labels, mut samples) = (Vec::new(), Vec::new());
        while !buf.is_empty() {
            let (key, mut body) = field(&mut buf);
            if key == super::TIMESERIES_LABELS {
                let (k1, name) = field(&mut body);
                let (k2, value) = field(&mut body);
                assert_eq!((k1, k2), (super::LABEL_NAME, super::LABEL_VALUE));
                labels.push((
                    String::from_utf8(name.to_vec()).unwrap(),
                    String::from_utf8(value.to_vec()).unwrap(),
                ));
            } else {
                assert_eq!(key, super::TIMESERIES_SAMPLES);
                assert_eq!(body[0], super::SAMPLE_VALUE);
                let bits = u64::from_le_bytes(body[1..9].try_into().unwrap());
                assert_eq!(body[9], super::SAMPLE_TIMESTAMP);
                let mut rest = &body[10..];
                samples.push((bits, varint(&mut rest) as i64));
                assert!(rest.is_empty());
            }
        }
        (labels, samples)
    }

    fn field<'a>(buf: &mut &'a [u8]) -> (u8, &'a [u8]) {
        let key = buf[0];
        *buf = &buf[1..];
        let len = varint(buf) as usize;
        let (body, rest) = buf.split_at(len);
        *buf = rest;
        (key, body)
    }

    fn varint(buf: &mut &[u8]) -> u64 {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = buf[0];
            *buf = &buf[1..];
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str, value: &str) -> Label {
        Label {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn a_tiny_request_has_the_expected_bytes() {
        let labels = [label("__name__", "up")];
        let mut out = Vec::new();
        encode_write_request([(&labels[..], 1.0)], 1000, &mut out);
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0x0a, 30,                        // WriteRequest.timeseries, 30 bytes
              0x0a, 14,                      //   TimeSeries.labels, 14 bytes
                0x0a, 8, b'_', b'_', b'n', b'a', b'm', b'e', b'_', b'_',
                0x12, 2, b'u', b'p',
              0x12, 12,                      //   TimeSeries.samples, 12 bytes
                0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,  // value 1.0, little-endian double
                0x10, 0xe8, 0x07,            //     timestamp 1000 as varint
        ];
        assert_eq!(out, expected);
    }

    #[test]
    fn varints_match_protobuf() {
        for (value, bytes) in [
            (0u64, &[0x00][..]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (300, &[0xac, 0x02]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ] {
            let mut out = Vec::new();
            write_varint(&mut out, value);
            assert_eq!(out, bytes, "varint of {value}");
            assert_eq!(varint_len(value), bytes.len(), "length of {value}");
        }
        // A negative int64 takes the full ten bytes.
        let mut out = Vec::new();
        write_varint(&mut out, -1_i64 as u64);
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn requests_decode_back_with_the_stale_marker_bit_exact() {
        let a = [label("__name__", "a"), label("long", &"v".repeat(300))];
        let b = [label("__name__", "b")];
        let mut out = Vec::new();
        encode_write_request(
            [(&a[..], 2.5), (&b[..], stale_marker())],
            1_764_000_000_123,
            &mut out,
        );
        let decoded = decode::write_request(&out);
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[0].0[1].1.len(), 300);
        assert_eq!(decoded[0].1, [(2.5f64.to_bits(), 1_764_000_000_123)]);
        assert_eq!(decoded[1].1, [(STALE_NAN_BITS, 1_764_000_000_123)]);
    }

    #[test]
    fn snappy_block_round_trip() {
        let labels = [
            label("__name__", "backupcenter_backups"),
            label("phase", "Completed"),
        ];
        let mut request = Vec::new();
        encode_write_request(
            std::iter::repeat_n((&labels[..], 1.0), 100),
            5,
            &mut request,
        );
        let compressed = compress(&request).unwrap();
        assert!(compressed.len() < request.len());
        let decompressed = snap::raw::Decoder::new()
            .decompress_vec(&compressed)
            .unwrap();
        assert_eq!(decompressed, request);
    }
}
