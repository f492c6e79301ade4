// Python's html.unescape (used by open_clip's basic_clean), for numeric references and the HTML 4 named set.
// Named references outside HTML 4 (+ &apos;) are left as they are; captions rarely use them.

// name:codepoint, generated from Python's html.entities.html5 for the HTML 4.01 names (+ apos and the upper-case legacy forms).
const TABLE = `
  AElig:198 Aacute:193 Acirc:194 Agrave:192 Alpha:913 Aring:197 Atilde:195 Auml:196 Beta:914 Ccedil:199
  Chi:935 Dagger:8225 Delta:916 ETH:208 Eacute:201 Ecirc:202 Egrave:200 Epsilon:917 Eta:919 Euml:203 Gamma:915
  Iacute:205 Icirc:206 Igrave:204 Iota:921 Iuml:207 Kappa:922 Lambda:923 Mu:924 Ntilde:209 Nu:925 OElig:338
  Oacute:211 Ocirc:212 Ograve:210 Omega:937 Omicron:927 Oslash:216 Otilde:213 Ouml:214 Phi:934 Pi:928
  Prime:8243 Psi:936 Rho:929 Scaron:352 Sigma:931 THORN:222 Tau:932 Theta:920 Uacute:218 Ucirc:219 Ugrave:217
  Upsilon:933 Uuml:220 Xi:926 Yacute:221 Yuml:376 Zeta:918 aacute:225 acirc:226 acute:180 aelig:230 agrave:224
  alefsym:8501 alpha:945 amp:38 and:8743 ang:8736 apos:39 aring:229 asymp:8776 atilde:227 auml:228 bdquo:8222
  beta:946 brvbar:166 bull:8226 cap:8745 ccedil:231 cedil:184 cent:162 chi:967 circ:710 clubs:9827 cong:8773
  copy:169 crarr:8629 cup:8746 curren:164 dArr:8659 dagger:8224 darr:8595 deg:176 delta:948 diams:9830
  divide:247 eacute:233 ecirc:234 egrave:232 empty:8709 emsp:8195 ensp:8194 epsilon:949 equiv:8801 eta:951
  eth:240 euml:235 euro:8364 exist:8707 fnof:402 forall:8704 frac12:189 frac14:188 frac34:190 frasl:8260
  gamma:947 ge:8805 gt:62 hArr:8660 harr:8596 hearts:9829 hellip:8230 iacute:237 icirc:238 iexcl:161
  igrave:236 image:8465 infin:8734 int:8747 iota:953 iquest:191 isin:8712 iuml:239 kappa:954 lArr:8656
  lambda:955 lang:10216 laquo:171 larr:8592 lceil:8968 ldquo:8220 le:8804 lfloor:8970 lowast:8727 loz:9674
  lrm:8206 lsaquo:8249 lsquo:8216 lt:60 macr:175 mdash:8212 micro:181 middot:183 minus:8722 mu:956 nabla:8711
  nbsp:160 ndash:8211 ne:8800 ni:8715 not:172 notin:8713 nsub:8836 ntilde:241 nu:957 oacute:243 ocirc:244
  oelig:339 ograve:242 oline:8254 omega:969 omicron:959 oplus:8853 or:8744 ordf:170 ordm:186 oslash:248
  otilde:245 otimes:8855 ouml:246 para:182 part:8706 permil:8240 perp:8869 phi:966 pi:960 piv:982 plusmn:177
  pound:163 prime:8242 prod:8719 prop:8733 psi:968 quot:34 rArr:8658 radic:8730 rang:10217 raquo:187 rarr:8594
  rceil:8969 rdquo:8221 real:8476 reg:174 rfloor:8971 rho:961 rlm:8207 rsaquo:8250 rsquo:8217 sbquo:8218
  scaron:353 sdot:8901 sect:167 shy:173 sigma:963 sigmaf:962 sim:8764 spades:9824 sub:8834 sube:8838 sum:8721
  sup:8835 sup1:185 sup2:178 sup3:179 supe:8839 szlig:223 tau:964 there4:8756 theta:952 thetasym:977
  thinsp:8201 thorn:254 tilde:732 times:215 trade:8482 uArr:8657 uacute:250 uarr:8593 ucirc:251 ugrave:249
  uml:168 upsih:978 upsilon:965 uuml:252 weierp:8472 xi:958 yacute:253 yen:165 yuml:255 zeta:950 zwj:8205
  zwnj:8204
  AMP:38 COPY:169 GT:62 LT:60 QUOT:34 REG:174
`;

const NAMED = new Map<string, string>();
for (const item of TABLE.trim().split(/\s+/)) {
  const [name, cp] = item.split(':');
  NAMED.set(name!, String.fromCodePoint(Number(cp)));
}
const LEGACY_NO_SEMICOLON = new Set<string>(['amp', 'lt', 'gt', 'quot', 'AMP', 'LT', 'GT', 'QUOT', 'COPY', 'REG']);
for (const [name, ch] of NAMED) if (ch.codePointAt(0)! >= 160 && ch.codePointAt(0)! <= 255) LEGACY_NO_SEMICOLON.add(name);

// HTML5 numeric-reference repairs: C1 controls read as windows-1252, NUL -> U+FFFD, CR kept.
const CP1252 = [0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178];

function isDroppedCodepoint(n: number): boolean {
  return (n >= 0x1 && n <= 0x8) || n === 0xb || (n >= 0xe && n <= 0x1f) || (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) || (n & 0xfffe) === 0xfffe;
}

function numeric(ref: string): string {
  const hex = ref[1] === 'x' || ref[1] === 'X';
  const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
  const n = hex ? parseInt(digits, 16) : parseInt(digits, 10);
  if (n === 0) return '\ufffd';
  if (n === 0x0d) return '\r';
  if (n >= 0x80 && n <= 0x9f) return String.fromCodePoint(CP1252[n - 0x80]!);
  if ((n >= 0xd800 && n <= 0xdfff) || n > 0x10ffff) return '\ufffd';
  if (isDroppedCodepoint(n)) return '';
  return String.fromCodePoint(n);
}

function named(ref: string): string {
  if (ref.endsWith(';') && NAMED.has(ref.slice(0, -1))) return NAMED.get(ref.slice(0, -1))!;
  if (LEGACY_NO_SEMICOLON.has(ref)) return NAMED.get(ref)!;
  // Longest legacy name that is a proper prefix ("&ampx" -> "&x", "&copy2024" -> "©2024").
  for (let x = ref.length - 1; x > 1; x--) {
    const p = ref.slice(0, x);
    if (LEGACY_NO_SEMICOLON.has(p)) return NAMED.get(p)! + ref.slice(x);
  }
  return '&' + ref;
}

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu; // u: count code points, as Python does

/** Python html.unescape semantics (numeric references exactly; named references from the HTML 4 set). */
export function htmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(CHARREF, (_m, ref: string) => (ref[0] === '#' ? numeric(ref) : named(ref)));
}
