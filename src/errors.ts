// The project's error types. Library code throws these; only src/cli turns them into a stderr line and an exit code.

/** Base of every error detclip raises on purpose. `code` lets callers branch without parsing messages. */
export class DetclipError extends Error {
  override name = 'DetclipError';
  readonly code: string;
  constructor(message: string, code = 'EDETCLIP') {
    super(message);
    this.code = code;
  }
}

/** An error caused by the user's input (file, record, flag, option): the message names the file and record. */
export class UserError extends DetclipError {
  override name = 'UserError';
  constructor(message: string, code = 'EINPUT') {
    super(message, code);
  }
}

/** True for errors detclip raised on purpose (as opposed to bugs or runtime failures). */
export function isDetclipError(err: unknown): err is DetclipError {
  return err instanceof DetclipError;
}
