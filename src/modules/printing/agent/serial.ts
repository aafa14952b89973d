import { SerialPort } from 'serialport';

import { AgentError } from './data-dir.js';

/*
 * The printer's serial port (a USB CDC device such as /dev/ttyUSB0 or /dev/ttyACM0, or the virtual
 * printer's pseudo-terminal), opened with `serialport` as it is on any SBC. 8N1, no flow control:
 * Marlin's host protocol paces itself with `ok`.
 */

export const baudRateDefault = 115_200;
/** The rates printers' firmware is built for (Marlin's BAUDRATE choices). */
export const baudRates = [9600, 19200, 38400, 57600, 115200, 230400, 250000, 500000, 1000000];

export async function openPrinterPort(
  path: string,
  baudRate: number = baudRateDefault,
): Promise<SerialPort> {
  if (!baudRates.includes(baudRate)) {
    throw new AgentError('invalid_baud', `--baud must be one of ${baudRates.join(', ')}`);
  }
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((error) =>
      error
        ? reject(new AgentError('serial_unavailable', `cannot open ${path}: ${error.message}`))
        : resolve(),
    ),
  );
  return port;
}

export function closePrinterPort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return Promise.resolve();
  return new Promise((resolve) => port.close(() => resolve()));
}
