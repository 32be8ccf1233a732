# Copyright: contributors to opsnotes.edge
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Draw the scale benchmark as an SVG line chart: seconds per host against the number of hosts, one line per
strategy. No plotting library: the benchmark hosts have none, and a few lines of SVG are enough.

    python3 plot_scale.py OUT.svg < rows     (rows: "hosts strategy seconds_per_host", one per line)
"""
import sys
from collections import defaultdict

COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e']
W, H, LEFT, RIGHT, TOP, BOTTOM = 640, 400, 60, 150, 30, 50


def main(out):
    series = defaultdict(list)
    for line in sys.stdin:
        parts = line.split()
        if len(parts) == 3:
            series[parts[1]].append((int(parts[0]), float(parts[2])))
    if not series:
        sys.exit('no rows to plot')
    xs = sorted({x for points in series.values() for x, _y in points})
    ymax = max(y for points in series.values() for _x, y in points) * 1.15 or 1.0
    xmin, xmax = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def px(x):
        return LEFT + (x - xmin) * (W - LEFT - RIGHT) / float(xmax - xmin)

    def py(y):
        return H - BOTTOM - y * (H - TOP - BOTTOM) / ymax

    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">'
           % (W, H), '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="14">lvs_dr + oom_protect, idempotent run: seconds per host</text>' % LEFT,
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (LEFT, TOP, LEFT, H - BOTTOM),
           '<text x="%d" y="%d" text-anchor="middle">hosts</text>' % ((LEFT + W - RIGHT) // 2, H - 12)]
    for x in xs:
        svg.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (px(x), H - BOTTOM + 16, x))
    for i in range(6):
        y = ymax * i / 5
        svg.append('<text x="%d" y="%.1f" text-anchor="end">%.1f</text>' % (LEFT - 6, py(y) + 4, y))
        svg.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (LEFT, py(y), W - RIGHT, py(y)))
    for index, (name, points) in enumerate(sorted(series.items())):
        colour = COLOURS[index % len(COLOURS)]
        points = sorted(points)
        svg.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                   % (colour, ' '.join('%.1f,%.1f' % (px(x), py(y)) for x, y in points)))
        for x, y in points:
            svg.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (px(x), py(y), colour))
        svg.append('<text x="%d" y="%d" fill="%s">%s</text>' % (W - RIGHT + 10, TOP + 20 + 18 * index, colour, name))
    svg.append('</svg>')
    with open(out, 'w') as handle:
        handle.write('\n'.join(svg) + '\n')


if __name__ == '__main__':
    main(sys.argv[1])
