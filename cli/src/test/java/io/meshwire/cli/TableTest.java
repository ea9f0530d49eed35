package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TableTest {

  private static String print(Table table) {
    StringWriter out = new StringWriter();
    table.print(new PrintWriter(out));
    return out.toString();
  }

  @Test
  void columnsAreAsWideAsTheirWidestCellWithoutTrailingSpaces() {
    Table table = Table.withHeader("NAME", "N", "NOTE")
        .row("east", 12345, "")
        .row("a-much-longer-name", 1, "multi\nline");
    assertEquals("""
        NAME                 N       NOTE
        east                 12345
        a-much-longer-name   1       multi line
        """, print(table));
  }

  @Test
  void fieldsHaveNoHeader() {
    assertEquals("""
        CLUSTER     east
        POD CIDRS   10.1.0.0/16
        """, print(Table.fields().row("CLUSTER", "east").row("POD CIDRS", "10.1.0.0/16")));
  }

  @Test
  void aHeaderAloneIsPrinted() {
    assertEquals("A   B\n", print(Table.withHeader("A", "B")));
  }

  @Test
  void rowWithTheWrongNumberOfCellsIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> Table.withHeader("A", "B").row("only one"));
  }

  @Test
  void printLineJoinsCellsUnaligned() {
    StringWriter out = new StringWriter();
    Table.printLine(new PrintWriter(out), 7, "token.created", "");
    assertEquals("7   token.created\n", out.toString());
  }
}
