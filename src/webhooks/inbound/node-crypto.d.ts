// The parts of node:crypto (workerd's, under nodejs_compat) that the SNS verifier uses, typed as
// Node types them. herald's typecheck leaves @types/node out because its globals would retype the
// worker's own (setTimeout returning a Timeout, not a number). Delete this file if @types/node is
// ever added to tsconfig's types: the two would declare X509Certificate twice.
declare module "node:crypto" {
  export interface KeyObject {
    readonly type: "secret" | "public" | "private";
    readonly asymmetricKeyType?: string;
  }

  export class X509Certificate {
    constructor(buffer: string | ArrayBufferView);
    readonly publicKey: KeyObject;
    /** OpenSSL's text form, "Mon DD HH:MM:SS YYYY GMT". */
    readonly validFrom: string;
    readonly validTo: string;
  }

  export function verify(algorithm: string, data: ArrayBufferView, key: KeyObject, signature: ArrayBufferView): boolean;
}
