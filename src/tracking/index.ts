export { decodeEntities } from "./html-entities";
export { rewriteHtml } from "./rewrite";
export { signToken, type TrackingClaims, verifyToken } from "./token";
