/**
 * A hash router (`#/account`): each route names its page, its title and who may see it. Other hashes (a skip
 * link's `#main`) are left to the browser. After each navigation the page's h1 takes focus so keyboard and
 * screen-reader users land on the new content.
 */

/** Who may open a route. */
export type Access = 'anyone' | 'signed-in' | 'admin';

/** A page renders into `main`. */
export type Page = (main: HTMLElement) => Promise<void> | void;

/** A route. */
export interface Route {
  path: string;
  title: string;
  access: Access;
  page: Page;
  /** Shown in the navigation. */
  nav?: boolean;
}

/** Starts routing; `guard` may redirect (return another path) before a page renders. */
export function startRouter(
  routes: Route[],
  main: HTMLElement,
  guard: (route: Route) => string | undefined,
  onRoute: (route: Route) => void,
): { go(path: string): void; rerender(): void } {
  let generation = 0;
  async function render(): Promise<void> {
    const hash = location.hash;
    if (hash !== '' && !hash.startsWith('#/')) return;
    const path = hash.slice(1) || '/';
    const route = routes.find((r) => r.path === path) ?? routes[0]!;
    const redirect = guard(route);
    if (redirect !== undefined && redirect !== path) {
      location.replace(`#${redirect}`);
      return;
    }
    const mine = ++generation;
    document.title = `${route.title} · Jot`;
    onRoute(route);
    main.replaceChildren();
    await route.page(main);
    if (mine === generation) main.querySelector<HTMLElement>('h1')?.focus();
  }
  window.addEventListener('hashchange', () => void render());
  void render();
  return {
    go(path) {
      if (location.hash === `#${path}`) void render();
      else location.hash = path;
    },
    rerender: () => void render(),
  };
}
