package io.meshwire.loadtests.agent;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code EventSummary} is what a simulated agent needs from one {@code WatchEvent}: its revision,
 * its kind, whether a snapshot chunk is the last, the hub's mesh UID from hello, and the message's
 * size. Read straight from the wire bytes without building the message, so ten thousand agents in
 * one JVM cost little more than the bytes they receive. Immutable.
 */
record EventSummary(long revision, Kind kind, boolean lastChunk, boolean snapshotFollows, String meshUid,
    int bytes) {

  /** The {@code WatchEvent.event} cases the bench tells apart. */
  public enum Kind { HELLO, SNAPSHOT_CHUNK, CHANGE, CAUGHT_UP, BOOKMARK, GOAWAY, UNKNOWN }

  // Field numbers of rendezvous.proto (v1): WatchEvent, Hello and SnapshotChunk.
  private static final int REVISION = 1;
  private static final int HELLO = 2;
  private static final int SNAPSHOT = 3;
  private static final int FIRST_CHANGE = 4;
  private static final int LAST_CHANGE = 7;
  /** {@code peers_changed}: one agent's delta after a peering-policy change. */
  private static final int PEERS_CHANGED = 11;
  private static final int CAUGHT_UP = 8;
  private static final int BOOKMARK = 9;
  private static final int GOAWAY = 10;
  private static final int HELLO_MESH_UID = 1;
  private static final int HELLO_SNAPSHOT_FOLLOWS = 4;
  private static final int CHUNK_LAST = 2;

  /** Reads the summary of an encoded {@code WatchEvent}. */
  public static EventSummary parse(byte[] encoded) {
    try {
      CodedInputStream in = CodedInputStream.newInstance(encoded);
      long revision = 0;
      Kind kind = Kind.UNKNOWN;
      boolean last = false;
      boolean follows = false;
      String uid = "";
      int tag;
      while ((tag = in.readTag()) != 0) {
        int field = WireFormat.getTagFieldNumber(tag);
        if (field == REVISION) {
          revision = in.readUInt64();
        } else if (field == HELLO) {
          kind = Kind.HELLO;
          int limit = in.pushLimit(in.readRawVarint32());
          int t;
          while ((t = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(t)) {
              case HELLO_MESH_UID -> uid = in.readString();
              case HELLO_SNAPSHOT_FOLLOWS -> follows = in.readBool();
              default -> in.skipField(t);
            }
          }
          in.popLimit(limit);
        } else if (field == SNAPSHOT) {
          kind = Kind.SNAPSHOT_CHUNK;
          int limit = in.pushLimit(in.readRawVarint32());
          // index (1) and last (2) come before the records (3, 4): stop reading at the first record.
          int t;
          while ((t = in.readTag()) != 0 && WireFormat.getTagFieldNumber(t) <= CHUNK_LAST) {
            if (WireFormat.getTagFieldNumber(t) == CHUNK_LAST) {
              last = in.readBool();
            } else {
              in.skipField(t);
            }
          }
          in.skipRawBytes(in.getBytesUntilLimit());
          in.popLimit(limit);
        } else {
          kind = switch (field) {
            case CAUGHT_UP -> Kind.CAUGHT_UP;
            case BOOKMARK -> Kind.BOOKMARK;
            case GOAWAY -> Kind.GOAWAY;
            default -> (field >= FIRST_CHANGE && field <= LAST_CHANGE) || field == PEERS_CHANGED ? Kind.CHANGE : kind;
          };
          in.skipField(tag);
        }
      }
      return new EventSummary(revision, kind, last, follows, uid, encoded.length);
    } catch (IOException e) {
      throw new UncheckedIOException("WatchEvent does not parse", e);
    }
  }

  /** A response marshaller for Watch that yields summaries; requests are never marshalled with it. */
  static final MethodDescriptor.Marshaller<EventSummary> MARSHALLER = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(EventSummary value) {
      throw new UnsupportedOperationException("EventSummary is read-only");
    }

    @Override
    public EventSummary parse(InputStream stream) {
      try {
        return EventSummary.parse(stream.readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };
}
