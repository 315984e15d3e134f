/**
 * OpenSIPS's `core_hash(s, NULL, size)` (hash_func.h, reference §3.5), so a record lands in the same bucket, and
 * is therefore visited at the same point of the timer cycle, as under OpenSIPS. All arithmetic is unsigned 32-bit.
 */
export function coreHash(text: string): number {
  const bytes = Buffer.from(text, "utf8");
  const end = bytes.length;
  // x86 `char` is signed: bytes >= 0x80 are sign-extended before the shifts.
  const at = (i: number): number => {
    const b = bytes[i]!;
    return b >= 0x80 ? b - 256 : b;
  };
  let h = 0;
  let p = 0;
  for (; p + 4 <= end; p += 4) {
    const v = ((at(p) << 24) + (at(p + 1) << 16) + (at(p + 2) << 8) + at(p + 3)) >>> 0;
    h = (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
  }
  let v = 0;
  for (; p < end; p++) v = ((v << 8) + at(p)) >>> 0;
  h = (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
  return (h + (h >>> 11) + ((h >>> 13) + (h >>> 23))) >>> 0;
}

/** The bucket of an AOR among `size` (a power of two) buckets. */
export function bucketOf(aor: string, size: number): number {
  return size > 0 ? coreHash(aor) & (size - 1) : coreHash(aor);
}
