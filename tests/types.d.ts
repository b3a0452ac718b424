// The release check is a plain script the test runs for its side effects.
declare module '*/release-check/check.mjs';
