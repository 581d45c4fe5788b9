export interface Mailbox {
  email: string;
  name?: string;
}

const ANGLE = /^\s*(.*?)\s*<([^<>\s]+)>\s*$/;
const BARE = /^[^\s<>@]+@[^\s<>@]+$/;

/** Splits `Name <user@host>` (the display name may be quoted) or a bare `user@host`. */
export function parseMailbox(text: string): Mailbox | undefined {
  const m = ANGLE.exec(text);
  if (m) {
    const email = m[2]!;
    if (!BARE.test(email)) return undefined;
    let name = m[1]!.trim();
    if (name.startsWith('"') && name.endsWith('"') && name.length >= 2) name = name.slice(1, -1).replace(/\\(.)/g, "$1");
    return name ? { email, name } : { email };
  }
  const bare = text.trim();
  return BARE.test(bare) ? { email: bare } : undefined;
}

export function domainOf(email: string): string | undefined {
  const at = email.lastIndexOf("@");
  return at > 0 ? email.slice(at + 1).toLowerCase() : undefined;
}
