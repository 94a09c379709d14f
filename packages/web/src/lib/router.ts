/**
 * A hash router (`#/account`): each route names its page, its title and who may see it. Other hashes (a skip
 * link's `#main`) are left to the browser once a page is shown. A page renders into a detached fragment that is put into `<main>` only
 * if no other navigation happened meanwhile — a page still loading when the user moves on is aborted (its signal)
 * and whatever it renders late goes nowhere. After each navigation the page's h1 takes focus so keyboard and
 * screen-reader users land on the new content — or, when the page is a single question to answer (a password a
 * link needs, a new link for one refused), the element it marks `data-autofocus`. `rerender()` (the session started or ended) checks the route
 * again but leaves a page that anyone may see in place — only the navigation changes — so nothing typed into it is
 * lost.
 */
import { errorText, message } from './dom.js';

/** Who may open a route. */
export type Access = 'anyone' | 'signed-in' | 'admin';

/**
 * A page renders into `root` (a detached container, shown once the page has finished); `signal` aborts when the next
 * navigation starts — while the page still loads (it can stop loading) or once it is shown (it drops what it listens
 * to, e.g. the client's session events).
 */
export type Page = (root: ParentNode, signal: AbortSignal) => Promise<void> | void;

/** A route. */
export interface Route {
  path: string;
  title: string;
  access: Access;
  page: Page;
  /** Shown in the navigation. */
  nav?: boolean;
}

/** What the router calls around a navigation. */
export interface RouterHooks {
  /**
   * May redirect (return another hash route, query included) before a page renders; `query` is the current route's
   * query (`next=…`), without the `?`.
   */
  guard: (route: Route, query: string) => string | undefined;
  /** A route is about to render (or, on `rerender`, stays): update the navigation. */
  onRoute: (route: Route) => void;
  /** The page has rendered into `main` and taken the focus. */
  afterRender?: (route: Route, query: string) => void;
}

/** Starts routing. */
export function startRouter(
  routes: Route[],
  main: HTMLElement,
  { guard, onRoute, afterRender }: RouterHooks,
): { go(path: string): void; rerender(): void } {
  let current: AbortController | undefined;
  let shown: { route: Route; hash: string } | undefined;
  async function render(keepOpenPage = false): Promise<void> {
    const hash = location.hash;
    // Another fragment (a skip link's `#main`) is left to the browser — once a page is on screen; an address that
    // arrives with one opens the start page.
    if (hash !== '' && !hash.startsWith('#/') && shown !== undefined) return;
    // A link from a message carries its token as a query: `#/reset-password?token=…`.
    const [rawPath = '', query = ''] = hash.slice(1).split('?');
    const path = rawPath || '/';
    const route = routes.find((r) => r.path === path) ?? routes[0]!;
    const redirect = guard(route, query);
    if (redirect !== undefined && redirect !== path && redirect !== hash.slice(1)) {
      location.replace(`#${redirect}`);
      return;
    }
    if (keepOpenPage && route.access === 'anyone' && shown?.route === route && shown.hash === hash) {
      onRoute(route);
      return;
    }
    shown = { route, hash };
    current?.abort();
    const mine = new AbortController();
    current = mine;
    document.title = `${route.title} · Jot`;
    main.dataset.route = route.path;
    onRoute(route);
    main.replaceChildren();
    main.setAttribute('aria-busy', 'true');
    const root = document.createDocumentFragment();
    try {
      await route.page(root, mine.signal);
    } catch (err) {
      root.append(message(errorText(err), 'error'));
    }
    // Another navigation started while this page loaded: it owns <main> now.
    if (mine.signal.aborted) return;
    main.replaceChildren(root);
    main.removeAttribute('aria-busy');
    (main.querySelector<HTMLElement>('[data-autofocus]') ?? main.querySelector<HTMLElement>('h1'))?.focus();
    afterRender?.(route, query);
  }
  window.addEventListener('hashchange', () => void render());
  void render();
  return {
    go(path) {
      if (location.hash === `#${path}`) void render();
      else location.hash = path;
    },
    rerender: () => void render(true),
  };
}
