/**
 * The parts of the ZIP format (PKWARE APPNOTE 6.3) that c8y-ms writes and reads: local
 * headers, central directory, end records and their ZIP64 variants.
 */
export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_END = 0x06054b50;
export const SIG_END64 = 0x06064b50;
export const SIG_END64_LOCATOR = 0x07064b50;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

/** The ZIP64 "extended information" extra field. */
export const EXTRA_ZIP64 = 0x0001;

/** A 32-bit field holding this value means "see the ZIP64 record". */
export const MAX32 = 0xffffffff;
export const MAX16 = 0xffff;

export const LOCAL_HEADER_SIZE = 30;
export const CENTRAL_HEADER_SIZE = 46;
export const END_SIZE = 22;
export const END64_SIZE = 56;
export const END64_LOCATOR_SIZE = 20;

/** Version needed to extract: 2.0 for deflate, 4.5 for ZIP64. */
export const VERSION_DEFLATE = 20;
export const VERSION_ZIP64 = 45;

/** General purpose flag bit 3: sizes and CRC follow the data in a descriptor. */
export const FLAG_DATA_DESCRIPTOR = 0x0008;
export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_UTF8 = 0x0800;
