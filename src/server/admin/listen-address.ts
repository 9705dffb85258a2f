/** The admin listen address: the shared grammar, with the admin server's own error. */
import { parseListenAddress as parseAddress, type ListenAddress } from '../net/listen-address.js';
import { AdminServerError } from './errors.js';

export { formatListenAddress, type ListenAddress } from '../net/listen-address.js';

export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1:9901';

export function parseListenAddress(text: string): ListenAddress {
  return parseAddress(text, (address, message) => new AdminServerError('ERR_ADMIN_ADDRESS', address, message));
}
