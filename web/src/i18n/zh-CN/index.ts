// One language's catalogue, all areas together: it is loaded as one file,
// and only when that language is in use.
import common from './common.json';
import messages from './messages.json';
import operator from './operator.json';
import people from './people.json';
import shell from './shell.json';

export default { ...common, ...messages, ...operator, ...people, ...shell };
