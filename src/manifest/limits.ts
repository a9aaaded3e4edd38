/**
 * Bounds on what the manifest readers accept, so that no text, however it is written, makes
 * checking slow or large. Real manifests are far below each (the largest in the corpus of
 * public projects has 1.5 KB, 4 levels and no alias).
 */

/** The manifest read from a zip has had this cap since the zip check was written; files get it too. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;

/** Deeper nesting than any manifest needs; it keeps hostile input from exhausting the stack. */
export const MAX_NESTING = 256;

/**
 * How many values YAML aliases may add in all. The yaml package caps alias expansion for its
 * own toJS (maxAliasCount); our reader walks the tree itself to keep positions, so it needs
 * its own cap, or nine lines of nested aliases expand to hundreds of millions of values.
 */
export const MAX_ALIAS_NODES = 10_000;
