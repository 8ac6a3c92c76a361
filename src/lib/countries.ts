/**
 * Countries and subdivisions as Polar's address schema knows them (`server/polar/kit/address.py`):
 * ISO 3166-1 alpha-2 codes (pycountry) less the ones Polar cannot sell to (CU, IR, KP, SY, RU), and the
 * US states (with DC) and Canadian provinces and territories, which Polar stores with the country
 * prefix (`US-CA`, `CA-QC`).
 */
export const COUNTRIES: readonly string[] = 'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IS IT JE JM JO JP KE KG KH KI KM KN KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'.split(' ')

export const US_STATES: ReadonlySet<string> = new Set('AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC'.split(' ').map((s) => `US-${s}`))
export const CA_SUBDIVISIONS: ReadonlySet<string> = new Set('AB BC MB NB NL NS NT NU ON PE QC SK YT'.split(' ').map((s) => `CA-${s}`))

/** Polar's rule: a US or Canadian state gets its country prefix; other countries' states are free text. */
export function normalizeState(country: string, state: string): { ok: true; state: string } | { ok: false; msg: string } {
  if (country !== 'US' && country !== 'CA') return { ok: true, state }
  const prefixed = state.startsWith(`${country}-`) ? state : `${country}-${state}`
  if (country === 'US' && !US_STATES.has(prefixed)) return { ok: false, msg: 'Value error, Invalid US state' }
  if (country === 'CA' && !CA_SUBDIVISIONS.has(prefixed)) return { ok: false, msg: 'Value error, Invalid CA subdivision' }
  return { ok: true, state: prefixed }
}
