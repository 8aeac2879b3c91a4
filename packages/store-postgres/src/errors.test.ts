/**
 * Which of pg's errors mean that the store cannot be reached (a typed EnvironmentError, 503 in the service, one line
 * in the CLI) rather than a fault of hotpatch. A server at its connection limit refuses a new connection with SQLSTATE
 * 53300: `hotpatch serve --report-thread on` opens a second pool, and met such a limit where one thread did not, at
 * start as "internal error … a fault of hotpatch" (exit 70).
 */
import { describe, expect, it } from 'vitest';
import { isConnectionError } from './errors.js';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('isConnectionError', () => {
  it('counts a server that refuses a new connection: too many connections (53300), cannot connect now (57P03)', () => {
    expect(isConnectionError(pgError('53300', 'too many connections for role "hotpatch"'))).toBe(true);
    expect(isConnectionError(pgError('53300', 'sorry, too many clients already'))).toBe(true);
    expect(isConnectionError(pgError('57P03', 'the database system is starting up'))).toBe(true);
  });

  it('does not count an SQL error on a live connection', () => {
    expect(isConnectionError(pgError('23505', 'duplicate key value violates unique constraint'))).toBe(false);
    expect(isConnectionError(pgError('53100', 'could not extend file: No space left on device'))).toBe(false);
    expect(isConnectionError(new TypeError('x is undefined'))).toBe(false);
  });
});
