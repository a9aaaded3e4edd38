/** One line per event on stdout, which the platform keeps as the service's log. Never log credentials. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const at = (level: string) => (message: string) => write(`${new Date().toISOString()} ${level} ${message}\n`);
  return { info: at("INFO"), warn: at("WARN"), error: at("ERROR") };
}
