package io.meshwire.loadtests.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code SvgPlot} draws a line chart with logarithmic x and y axes as a standalone SVG document,
 * by plain string building (no graphics library). Points with a non-positive or NaN value are
 * left out. Stateless.
 */
final class SvgPlot {

  /** One line: a name for the legend, a CSS colour, dashed or solid, and its points. */
  public record Series(String name, String color, boolean dashed, List<Point> points) {
    public Series {
      points = List.copyOf(points);
    }
  }

  public record Point(double x, double y) {}

  /** A horizontal reference line (a target), drawn dotted and labelled. */
  public record Reference(String label, double y) {}

  private static final int WIDTH = 760;
  private static final int HEIGHT = 480;
  private static final int LEFT = 80;
  private static final int RIGHT = 200;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;

  private SvgPlot() {}

  public static String render(String title, String xLabel, String yLabel, List<Series> series,
      List<Reference> references) {
    List<Double> xs = new ArrayList<>();
    List<Double> ys = new ArrayList<>();
    for (Series s : series) {
      for (Point p : s.points()) {
        if (usable(p.x()) && usable(p.y())) {
          xs.add(p.x());
          ys.add(p.y());
        }
      }
    }
    references.forEach(r -> ys.add(r.y()));
    double x0 = decadeBelow(xs.stream().mapToDouble(Double::doubleValue).min().orElse(1));
    double x1 = decadeAbove(xs.stream().mapToDouble(Double::doubleValue).max().orElse(10));
    double y0 = decadeBelow(ys.stream().mapToDouble(Double::doubleValue).min().orElse(1));
    double y1 = decadeAbove(ys.stream().mapToDouble(Double::doubleValue).max().orElse(10));
    if (x1 <= x0) {
      x1 = x0 * 10;
    }
    if (y1 <= y0) {
      y1 = y0 * 10;
    }
    Axes axes = new Axes(x0, x1, y0, y1);

    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            + "font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
    svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>%n",
        LEFT, escape(title)));

    // Grid and ticks: every decade labelled, 2..9 as light lines.
    for (double d = x0; d <= x1 * 1.0001; d *= 10) {
      for (int k = 1; k <= 9 && d * k <= x1 * 1.0001; k++) {
        double px = axes.px(d * k);
        svg.append(line(px, TOP, px, HEIGHT - BOTTOM, k == 1 ? "#bbbbbb" : "#eeeeee", false));
      }
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
          axes.px(d), HEIGHT - BOTTOM + 18, number(d)));
    }
    for (double d = y0; d <= y1 * 1.0001; d *= 10) {
      for (int k = 1; k <= 9 && d * k <= y1 * 1.0001; k++) {
        double py = axes.py(d * k);
        svg.append(line(LEFT, py, WIDTH - RIGHT, py, k == 1 ? "#bbbbbb" : "#eeeeee", false));
      }
      svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
          LEFT - 8, axes.py(d) + 4, number(d)));
    }
    svg.append(String.format(Locale.ROOT,
        "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333333\"/>%n",
        LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
        LEFT + (WIDTH - LEFT - RIGHT) / 2, HEIGHT - 18, escape(xLabel)));
    svg.append(String.format(Locale.ROOT,
        "<text x=\"18\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 18 %d)\">%s</text>%n",
        TOP + (HEIGHT - TOP - BOTTOM) / 2, TOP + (HEIGHT - TOP - BOTTOM) / 2, escape(yLabel)));

    for (Reference r : references) {
      double py = axes.py(r.y());
      svg.append(String.format(Locale.ROOT,
          "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#cc0000\" stroke-dasharray=\"2,3\"/>%n",
          LEFT, py, WIDTH - RIGHT, py));
      svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" fill=\"#cc0000\">%s</text>%n",
          LEFT + 6, py - 4, escape(r.label())));
    }

    int legendY = TOP + 10;
    for (Series s : series) {
      List<Point> pts = s.points().stream().filter(p -> usable(p.x()) && usable(p.y())).toList();
      if (!pts.isEmpty()) {
        StringBuilder path = new StringBuilder();
        for (Point p : pts) {
          path.append(path.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.1f,%.1f", axes.px(p.x()),
              axes.py(p.y())));
        }
        svg.append(String.format(Locale.ROOT,
            "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>%n",
            path, s.color(), s.dashed() ? " stroke-dasharray=\"6,4\"" : ""));
        for (Point p : pts) {
          svg.append(String.format(Locale.ROOT,
              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>%s: N=%s, %s ms</title></circle>%n",
              axes.px(p.x()), axes.py(p.y()), s.color(), escape(s.name()), number(p.x()), number(p.y())));
        }
      }
      int lx = WIDTH - RIGHT + 16;
      svg.append(String.format(Locale.ROOT,
          "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>%n",
          lx, legendY, lx + 28, legendY, s.color(), s.dashed() ? " stroke-dasharray=\"6,4\"" : ""));
      svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", lx + 34, legendY + 4,
          escape(s.name())));
      legendY += 20;
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  private record Axes(double x0, double x1, double y0, double y1) {
    double px(double x) {
      return LEFT + (Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0)) * (WIDTH - LEFT - RIGHT);
    }

    double py(double y) {
      return HEIGHT - BOTTOM - (Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))
          * (HEIGHT - TOP - BOTTOM);
    }
  }

  private static boolean usable(double v) {
    return v > 0 && !Double.isNaN(v) && !Double.isInfinite(v);
  }

  static double decadeBelow(double v) {
    return Math.pow(10, Math.floor(Math.log10(v)));
  }

  static double decadeAbove(double v) {
    return Math.pow(10, Math.ceil(Math.log10(v)));
  }

  private static String line(double x1, double y1, double x2, double y2, String color, boolean dashed) {
    return String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"%s/>%n",
        x1, y1, x2, y2, color, dashed ? " stroke-dasharray=\"4,4\"" : "");
  }

  private static String number(double v) {
    if (v >= 1 && v == Math.rint(v)) {
      return String.format(Locale.ROOT, "%,d", (long) v);
    }
    return String.format(Locale.ROOT, "%.3g", v);
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
