/**
 * Message components in the fake Discord: the checks Discord applies to a message's action rows
 * and buttons (a failing body is refused with its 400, code 50035, naming the field), and the
 * lookup a click needs (Discord only sends clicks for buttons a message really carries).
 */

/** Discord's limits for legacy (non components-v2) message components. */
export const COMPONENT_LIMITS = { rows: 5, buttonsPerRow: 5, customId: 100, label: 80 } as const;

const ACTION_ROW = 1;
const BUTTON = 2;
const LINK_STYLE = 5;
const PREMIUM_STYLE = 6;

/** One field error in Discord's shape: a path of keys down to `_errors`. */
export interface ComponentError {
  path: (string | number)[];
  code: string;
  message: string;
}

/** The errors Discord would report for `components` (empty when it accepts them). */
export function componentErrors(components: unknown): ComponentError[] {
  if (components === undefined || components === null) return [];
  if (!Array.isArray(components)) return [{ path: ['components'], code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }];
  const errors: ComponentError[] = [];
  const fail = (path: (string | number)[], code: string, message: string) => errors.push({ path: ['components', ...path], code, message });
  if (components.length > COMPONENT_LIMITS.rows) fail([], 'BASE_TYPE_BAD_LENGTH', `Must be between 0 and ${COMPONENT_LIMITS.rows} in length.`);
  const ids = new Set<string>();
  components.forEach((row: any, r) => {
    if (row?.type !== ACTION_ROW) return fail([r, 'type'], 'UNION_TYPE_CHOICES', 'Value of field "type" must be one of (1,).');
    const buttons: any[] = Array.isArray(row.components) ? row.components : [];
    if (buttons.length < 1 || buttons.length > COMPONENT_LIMITS.buttonsPerRow)
      fail([r, 'components'], 'BASE_TYPE_BAD_LENGTH', `Must be between 1 and ${COMPONENT_LIMITS.buttonsPerRow} in length.`);
    buttons.forEach((b, i) => {
      const at = [r, 'components', i];
      if (b?.type !== BUTTON) return fail([...at, 'type'], 'COMPONENT_TYPE_INVALID', 'Only buttons are checked by this fake.');
      if (typeof b.style !== 'number' || b.style < 1 || b.style > 6) fail([...at, 'style'], 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2, 3, 4, 5, 6}.');
      if (b.label !== undefined && String(b.label).length > COMPONENT_LIMITS.label)
        fail([...at, 'label'], 'BASE_TYPE_MAX_LENGTH', `Must be ${COMPONENT_LIMITS.label} or fewer in length.`);
      if (b.label === undefined && b.emoji === undefined && b.style !== PREMIUM_STYLE) fail([...at], 'BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED', 'A button needs a label or an emoji.');
      if (b.style === LINK_STYLE || b.style === PREMIUM_STYLE) return;
      if (typeof b.custom_id !== 'string' || b.custom_id.length < 1) return fail([...at, 'custom_id'], 'BASE_TYPE_REQUIRED', 'This field is required');
      if (b.custom_id.length > COMPONENT_LIMITS.customId)
        fail([...at, 'custom_id'], 'BASE_TYPE_MAX_LENGTH', `Must be ${COMPONENT_LIMITS.customId} or fewer in length.`);
      if (ids.has(b.custom_id)) fail([...at, 'custom_id'], 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
      ids.add(b.custom_id);
    });
  });
  return errors;
}

/** Discord's 400 body for those errors: `errors` nests the field path down to `_errors`. */
export function invalidFormBody(errors: ComponentError[]) {
  const tree: Record<string, any> = {};
  for (const e of errors) {
    let node = tree;
    for (const key of e.path) node = node[String(key)] ??= {};
    (node._errors ??= []).push({ code: e.code, message: e.message });
  }
  return { message: 'Invalid Form Body', code: 50035, errors: tree };
}

/** The buttons' custom ids a message carries, row by row. */
export function customIdsOf(components: unknown[]): string[] {
  return components.flatMap((row: any) => (Array.isArray(row?.components) ? row.components : [])).flatMap((b: any) => (typeof b?.custom_id === 'string' ? [b.custom_id] : []));
}
