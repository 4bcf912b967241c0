// An invite link (/add/TOKEN) opened while signed out shows the sign-in
// page; once signed in (or registered), the app goes to "/". This brings
// the person back to the invite instead: the link is remembered for this
// tab and taken up at the first navigation with a session.
import { getToken } from './api';
import { navigate } from './router';

const key = 'plaza.afterSignIn';
const invite = /^\/add\/[A-Za-z0-9_-]+$/;

function store(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

if (invite.test(location.pathname) && !getToken()) store()?.setItem(key, location.pathname);

addEventListener('popstate', () => {
  const s = store();
  const back = s?.getItem(key);
  if (!back || !getToken()) return;
  s?.removeItem(key);
  if (location.pathname !== back) navigate(back, true);
});
