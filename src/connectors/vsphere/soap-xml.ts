// The vim25 SOAP envelope, both ways: requests built by hand (element order as the WSDL wants it, every text
// and attribute escaped), responses parsed with fast-xml-parser into a small tree read through typed helpers.
import { XMLParser } from 'fast-xml-parser';

export interface MoRef {
  type: string;
  value: string;
}

/** An element carrying xsi:type (a subtype where the WSDL names a base type, e.g. TraversalSpec for SelectionSpec). */
export class Typed {
  constructor(
    readonly xsiType: string,
    readonly fields: SoapFields,
  ) {}
}

/** A managed-object reference argument: `<name type="HostSystem">host-12</name>`. */
export class Ref {
  constructor(readonly ref: MoRef) {}
}

export type SoapValue = string | number | boolean | Date | Ref | Typed | SoapFields | readonly SoapValue[] | undefined;
export interface SoapFields {
  [element: string]: SoapValue;
}

// XML 1.0 cannot carry these at all, not even as character references.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export function escapeXml(text: string): string {
  if (NOT_XML.test(text)) throw new RangeError('text contains a control character that XML cannot carry');
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function serialize(name: string, value: SoapValue, out: string[]): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value as readonly SoapValue[]) serialize(name, item, out);
    return;
  }
  if (value instanceof Ref) {
    out.push(`<${name} type="${escapeXml(value.ref.type)}">${escapeXml(value.ref.value)}</${name}>`);
    return;
  }
  if (value instanceof Date) {
    out.push(`<${name}>${value.toISOString()}</${name}>`);
    return;
  }
  if (value instanceof Typed) {
    out.push(`<${name} xsi:type="${escapeXml(value.xsiType)}">`);
    for (const [key, field] of Object.entries(value.fields)) serialize(key, field, out);
    out.push(`</${name}>`);
    return;
  }
  if (typeof value === 'object') {
    out.push(`<${name}>`);
    for (const [key, field] of Object.entries(value)) serialize(key, field, out);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${escapeXml(String(value))}</${name}>`);
}

/** The request envelope of `method` on the object `self`, its arguments in the order given. */
export function buildEnvelope(method: string, self: MoRef, args: SoapFields = {}): string {
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema"',
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>',
    `<${method} xmlns="urn:vim25">`,
  ];
  serialize('_this', new Ref(self), out);
  for (const [key, value] of Object.entries(args)) serialize(key, value, out);
  out.push(`</${method}></soapenv:Body></soapenv:Envelope>`);
  return out.join('');
}

// ---------------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------------

/** A parsed element: its text, or its attributes (`@_name`), children and text (`#text`). */
export type XNode = string | { [key: string]: XNode | XNode[] };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Everything stays text: a VM named "0012" or "1e3" must not turn into a number.
  parseTagValue: false,
  parseAttributeValue: false,
  // Names keep their spaces.
  trimValues: false,
  // Numeric character references (Go's encoder writes &#34; and &#39;).
  htmlEntities: true,
});

export interface SoapFaultInfo {
  /** The vim fault type, e.g. InvalidLogin, ManagedObjectNotFound; '' when the fault has no detail. */
  type: string;
  message: string;
  detail: XNode | undefined;
}

export type ParsedResponse = { ok: true; returnval: XNode[] } | { ok: false; fault: SoapFaultInfo };

function entries(node: XNode | XNode[] | undefined): [string, XNode | XNode[]][] {
  if (node === undefined || typeof node === 'string' || Array.isArray(node)) return [];
  return Object.entries(node);
}

const localName = (key: string) => key.slice(key.indexOf(':') + 1);

/** The first child whose local name (namespace prefix ignored) is `name`. */
function childByLocalName(node: XNode | undefined, name: string): XNode | undefined {
  for (const [key, value] of entries(node)) {
    if (!key.startsWith('@_') && localName(key) === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** Parses a response envelope: the `returnval` elements of the method's response, or the fault. */
export function parseEnvelope(xml: string): ParsedResponse {
  if (/<!DOCTYPE/i.test(xml)) throw new SyntaxError('a SOAP response must not have a DOCTYPE');
  const doc = parser.parse(xml) as XNode;
  const body = childByLocalName(childByLocalName(doc, 'Envelope'), 'Body');
  if (body === undefined) throw new SyntaxError('not a SOAP envelope');
  const fault = childByLocalName(body, 'Fault');
  if (fault !== undefined) {
    const detail = childByLocalName(fault, 'detail');
    let type = '';
    let detailNode: XNode | undefined;
    for (const [key, value] of entries(detail)) {
      if (key.startsWith('@_') || key === '#text') continue;
      detailNode = Array.isArray(value) ? value[0] : value;
      type = xsiType(detailNode) ?? localName(key).replace(/Fault$/, '');
      break;
    }
    return { ok: false, fault: { type, message: text(childByLocalName(fault, 'faultstring')), detail: detailNode } };
  }
  const response = entries(body).find(([key]) => !key.startsWith('@_') && key !== '#text');
  if (!response) throw new SyntaxError('the SOAP body is empty');
  const returnval = entries(Array.isArray(response[1]) ? response[1][0] : response[1]).find(([key]) => key === 'returnval');
  return { ok: true, returnval: returnval ? list(returnval[1]) : [] };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the tree
// ---------------------------------------------------------------------------------------------------------------

export function list(node: XNode | XNode[] | undefined): XNode[] {
  if (node === undefined) return [];
  return Array.isArray(node) ? node : [node];
}

/** The children named `name` (an element repeated or not). */
export function children(node: XNode | undefined, name: string): XNode[] {
  if (node === undefined || typeof node === 'string') return [];
  return list(node[name]);
}

export function child(node: XNode | undefined, name: string): XNode | undefined {
  return children(node, name)[0];
}

export function text(node: XNode | undefined): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node;
  const value = node['#text'];
  return typeof value === 'string' ? value : '';
}

export function attribute(node: XNode | undefined, name: string): string | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  const value = node[`@_${name}`];
  return typeof value === 'string' ? value : undefined;
}

/** The xsi:type of an element, whatever prefix the server bound the XML Schema instance namespace to. */
export function xsiType(node: XNode | undefined): string | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  for (const [key, value] of Object.entries(node)) {
    // A managed-object reference's own `type` attribute has no prefix.
    if (key.startsWith('@_') && key.endsWith(':type') && typeof value === 'string') return localName(value);
  }
  return undefined;
}

export function moRef(node: XNode | undefined): MoRef | undefined {
  const type = attribute(node, 'type');
  const value = text(node);
  return type !== undefined && value !== '' ? { type, value } : undefined;
}

export function textOf(node: XNode | undefined, name: string): string | undefined {
  const found = child(node, name);
  return found === undefined ? undefined : text(found);
}

export function numberOf(node: XNode | undefined, name: string): number | undefined {
  const found = textOf(node, name);
  if (found === undefined || found.trim() === '') return undefined;
  const value = Number(found);
  return Number.isFinite(value) ? value : undefined;
}

export function booleanOf(node: XNode | undefined, name: string): boolean | undefined {
  const found = textOf(node, name);
  return found === undefined ? undefined : found.trim() === 'true' || found.trim() === '1';
}
