"""Media formats: MPEG-TS timestamps, MP4 boxes, decoding, and the one ffmpeg runner."""
