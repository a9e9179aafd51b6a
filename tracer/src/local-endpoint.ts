import { networkInterfaces } from 'node:os';
import type { Endpoint } from '@pintrace/model';

/** The service's endpoint: its name (lower-case) and the first external IPv4 address, if any. */
export function localEndpoint(serviceName: string): Endpoint {
  const endpoint: Endpoint = { serviceName: serviceName.toLowerCase() };
  try {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) {
        if (address.family === 'IPv4' && !address.internal) {
          endpoint.ipv4 = address.address;
          return endpoint;
        }
      }
    }
  } catch {
    // no interfaces visible: the service name alone is a valid endpoint
  }
  return endpoint;
}
