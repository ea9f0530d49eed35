package io.meshwire.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code Table} prints rows as aligned columns, each as wide as its widest cell, separated by three
 * spaces, like {@code kubectl get}. Every tabular output of the CLI goes through here. Cells are
 * single-line (line breaks become spaces); a missing value should be passed as {@code "-"}. Not
 * thread-safe: build and print on one thread.
 */
public final class Table {

  private static final String GAP = "   ";

  private final int columns;
  private final List<String[]> rows = new ArrayList<>();

  private Table(int columns) {
    this.columns = columns;
  }

  /** A table whose first row is {@code headers}. */
  public static Table withHeader(String... headers) {
    Table t = new Table(headers.length);
    t.row((Object[]) headers);
    return t;
  }

  /** A two-column table without a header, for the fields of one object ({@code FIELD   value}). */
  public static Table fields() {
    return new Table(2);
  }

  /**
   * Adds a row; each cell is printed with {@link String#valueOf(Object)}.
   *
   * @throws IllegalArgumentException if the number of cells differs from the number of columns
   */
  public Table row(Object... cells) {
    if (cells.length != columns) {
      throw new IllegalArgumentException("row has " + cells.length + " cells, the table " + columns + " columns");
    }
    rows.add(Arrays.stream(cells).map(Table::cell).toArray(String[]::new));
    return this;
  }

  /** Prints the table; the last column is not padded, so lines carry no trailing spaces. */
  public void print(PrintWriter out) {
    int[] widths = new int[columns];
    for (String[] row : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], width(row[i]));
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(row[i]);
        if (i < columns - 1) {
          line.append(" ".repeat(widths[i] - width(row[i]))).append(GAP);
        }
      }
      out.println(line.toString().stripTrailing());
    }
    out.flush();
  }

  /**
   * Prints one row on its own, unaligned, for rows printed as they come (a stream), where the
   * widths of later rows are unknown.
   */
  public static void printLine(PrintWriter out, Object... cells) {
    out.println(String.join(GAP, Arrays.stream(cells).map(Table::cell).toList()).stripTrailing());
    out.flush();
  }

  private static String cell(Object value) {
    return String.valueOf(value).replaceAll("[\\r\\n\\t]+", " ");
  }

  private static int width(String cell) {
    return cell.codePointCount(0, cell.length());
  }
}
