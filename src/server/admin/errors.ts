/** Errors of the admin server: a misused address, a socket that could not be bound, the live map's files unreadable. */

export type AdminServerErrorCode = 'ERR_ADMIN_ADDRESS' | 'ERR_ADMIN_LISTEN' | 'ERR_ADMIN_UI';

export class AdminServerError extends Error {
  readonly code: AdminServerErrorCode;
  /** The address as configured, so the message can name it. */
  readonly address: string;

  constructor(code: AdminServerErrorCode, address: string, message: string, options?: { cause?: unknown }) {
    super(`admin address ${JSON.stringify(address)}: ${message}`, options);
    this.name = 'AdminServerError';
    this.code = code;
    this.address = address;
  }
}
