/**
 * A QR code drawn in the page as SVG (`uqr` computes the modules; nothing leaves the browser): one `<path>` of dark
 * squares inside a 4-module quiet zone, scaled by CSS. Built with DOM calls, never with markup strings.
 */
import { encode } from 'uqr';

const SVG = 'http://www.w3.org/2000/svg';

/** The QR code of `text` as an `<svg role="img">` labelled `label`. */
export function qrSvg(text: string, label: string): SVGSVGElement {
  const { data, size } = encode(text, { ecc: 'M', border: 0 });
  const quiet = 4;
  const full = size + quiet * 2;
  let d = '';
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d += `M${x + quiet} ${y + quiet}h1v1h-1z`;
    }),
  );
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${full} ${full}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('class', 'qr');
  svg.setAttribute('shape-rendering', 'crispEdges');
  const background = document.createElementNS(SVG, 'rect');
  background.setAttribute('width', String(full));
  background.setAttribute('height', String(full));
  background.setAttribute('fill', '#fff');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  svg.append(background, path);
  return svg;
}
