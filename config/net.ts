/** IPv4/IPv6 helpers for the config check: literal validation and CIDR containment. */
import { isIP } from "node:net";

/** 4 for an IPv4 literal, 6 for IPv6, 0 for anything else (hostnames included). */
export function ipVersion(address: string): 0 | 4 | 6 {
  return isIP(address) as 0 | 4 | 6;
}

export function ipv4ToInt(address: string): number | undefined {
  if (isIP(address) !== 4) return undefined;
  return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export interface Cidr4 {
  base: number;
  prefix: number;
}

export function parseCidr4(cidr: string): Cidr4 | undefined {
  const [addr, len, ...rest] = cidr.split("/");
  if (rest.length > 0 || len === undefined || !/^\d{1,2}$/.test(len)) return undefined;
  const base = ipv4ToInt(addr);
  const prefix = Number(len);
  if (base === undefined || prefix > 32) return undefined;
  return { base, prefix };
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The network address of the block (host bits cleared). */
export function networkOf(c: Cidr4): number {
  return (c.base & mask(c.prefix)) >>> 0;
}

export function cidrContainsAddress(c: Cidr4, address: string): boolean {
  const a = ipv4ToInt(address);
  return a !== undefined && (a & mask(c.prefix)) >>> 0 === networkOf(c);
}

export function cidrContainsCidr(outer: Cidr4, inner: Cidr4): boolean {
  return inner.prefix >= outer.prefix && (networkOf(inner) & mask(outer.prefix)) >>> 0 === networkOf(outer);
}
