/** A verifier `logger` for tests that keeps every line it is given, with its data. */

/** One logged line. */
export interface LoggedLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  data: Record<string, unknown> | undefined;
}

type LogFn = (message: string, data?: Record<string, unknown>) => void;

/** What `dataLogger` returns: the logger's three levels and the lines they received. */
export interface DataLogger {
  lines: LoggedLine[];
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** A logger that keeps every line with its data. */
export function dataLogger(): DataLogger {
  const lines: LoggedLine[] = [];
  const at =
    (level: LoggedLine['level']): LogFn =>
    (message, data) =>
      lines.push({ level, message, data });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}
