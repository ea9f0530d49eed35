package io.meshwire.loadtests.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void writtenDocumentsParseBackToTheSameValues() {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("name", "a \"quoted\"\nline");
    doc.put("n", 10_000);
    doc.put("ms", 12.3456);
    doc.put("nan", Double.NaN);
    doc.put("flags", List.of(true, false));
    doc.put("runs", List.of(Map.of("agents", 100)));

    Object back = Json.parse(Json.write(doc));

    assertEquals("a \"quoted\"\nline", Json.at(back, "name"));
    assertEquals(10_000.0, Json.at(back, "n"));
    assertEquals(12.346, Json.at(back, "ms"));
    assertNull(Json.at(back, "nan"), "NaN is written as null");
    assertEquals(List.of(true, false), Json.at(back, "flags"));
    assertEquals(100.0, Json.at(back, "runs", 0, "agents"));
    assertNull(Json.at(back, "runs", 5, "agents"));
  }

  @Test
  void everyEscapeTheWriterUsesParsesBack() {
    StringBuilder all = new StringBuilder();
    for (char c = 0; c < 0x80; c++) {
      all.append(c);
    }
    String text = all.append("é東京\ud83d\ude00").toString();

    assertEquals(text, Json.at(Json.parse(Json.write(Map.of("s", text))), "s"));
  }

  @Test
  void malformedInputNamesTheOffset() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": }"));
    assertEquals("JSON at offset 6: unexpected character '}'", e.getMessage());
  }
}
