/**
 * A crop whose last reading of the landmarks (on the upright crop, detector.ts `refine`) still
 * turned the eye line more than this many degrees is reported by the scan: its eyes may not be
 * level. Measured on bench/faces-quality.mjs's photos, a settled reading turns it by under 1°.
 */
export const EYE_LINE_UNSURE = 5;
