/** A decoded image as every stage after decoding takes it. */
export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB, row-major, width·height·3 bytes. */
  data: Uint8Array;
}
