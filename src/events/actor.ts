// Who caused an event: the API token that made the change, or `local` when access control is off.

/**
 * Stored with each event as it was when the event happened: a token renamed or revoked later
 * still shows the name and role it acted with. Events of background work (scheduled passes, a
 * migration's progress) have none.
 */
export type Actor = { type: 'token'; id: string; name: string; role: string } | { type: 'local' };

export const LOCAL_ACTOR: Actor = { type: 'local' };
