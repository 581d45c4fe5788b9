export { isHttpUrl, MAX_TOKEN_LENGTH, signToken, verifyToken, type TokenKind, type TrackingClaims } from "./token";
export { decodeEntities, escapeAttribute, rewriteHtml, type RewriteOptions } from "./rewrite";
