// The roles that open the operator console. Kept apart from the console's
// code, which is loaded only when it is opened.
export const consoleRoles = ['admin', 'reviewer', 'compliance', 'moderator'];
