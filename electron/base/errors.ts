/** Service errors that are not the trainer's: a missing record. (The trainer's CamdError carries the other causes.) */
export class NotFound extends Error {
  readonly kind = 'not-found' as const;
  constructor(what: string) {
    super(`${what} does not exist`);
    this.name = 'NotFound';
  }
}
