// Field errors for people. The API names a bad field by its JSON path
// (`attendees/0/name`, `card/exp_year`, `tiers/1/price_minor`) and says what
// is wrong in terms a developer reads (`must be 1-200 characters without
// control characters`); a buyer should read "Ticket 1: attendee name" and
// "Please fill this in.". Positions are shown 1-based.

const words = (s) =>
  String(s)
    .replace(/_minor$/, '')
    .replace(/[_/]+/g, ' ')
    .trim();

/** Labels by field path: a pattern and the label it makes from its match. */
const LABELS = [
  [/^buyer\/name$/, () => 'Full name'],
  [/^buyer\/email$/, () => 'E-mail'],
  [/^buyer\/phone$/, () => 'Mobile phone'],
  [/^attendees\/(\d+)\/name$/, (m) => `Ticket ${Number(m[1]) + 1}: attendee name`],
  [/^card\/number$/, () => 'Card number'],
  [/^card\/exp_(month|year)$/, () => 'Expiry (MM/YY)'],
  [/^card\/cvc$/, () => 'CVC'],
  [/^card$/, () => 'Card'],
  [/^tiers\/(\d+)\/price_minor$/, (m) => `Tier ${Number(m[1]) + 1}: price`],
  [/^tiers\/(\d+)\/(\w+)$/, (m) => `Tier ${Number(m[1]) + 1}: ${words(m[2])}`],
  [/^([a-z_]+)\/(\d+)\/(\w+)$/, (m) => `${words(m[1]).replace(/s$/, '')} ${Number(m[2]) + 1}: ${words(m[3])}`],
];

/** Reasons as sentences: a pattern of the API's message and the sentence (given the field's value, when known). */
const SENTENCES = [
  [/^must be 1-(\d+) characters without control characters$/, (m, v) => (v === '' ? 'Please fill this in.' : `Use at most ${m[1]} characters, on one line.`)],
  [/^must be an e-mail address like (.+)$/, (m) => `Enter an e-mail address like ${m[1]}.`],
  [/^must be an international number like (.+)$/, (m) => `Enter the number with its country code, like ${m[1]}.`],
  [/^is not a valid card number$/, () => 'This card number is not right: check the digits.'],
  [/^must be 1-12$/, () => 'Enter the expiry as MM/YY, for example 04/29.'],
  [/^the card has expired or the year is not plausible$/, () => 'This card has expired or the date is not right: check the expiry (MM/YY).'],
  [/^must be 3 or 4 digits$/, () => 'Enter the 3 or 4 digits printed on the back of the card.'],
  [/^must not be negative$/, () => 'This cannot be below zero.'],
  [/^is required$/, () => 'Please fill this in.'],
];

/** The label of API field `path` (`attendees/0/name` → `Ticket 1: attendee name`). */
export function fieldLabel(path) {
  for (const [re, make] of LABELS) {
    const m = re.exec(String(path));
    if (m) return make(m);
  }
  const w = words(path);
  return w.charAt(0).toUpperCase() + w.slice(1);
}

/** The API's `message` about a field as a sentence; `value` (the field's text, when known) lets "empty" read as such. */
export function fieldSentence(message, value) {
  const text = String(message || 'is not valid');
  for (const [re, make] of SENTENCES) {
    const m = re.exec(text);
    if (m) return make(m, value);
  }
  const s = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
