package io.meshwire.reflection.imports;

import java.util.Map;
import java.util.Optional;

/**
 * {@code ImportApi} is the narrow edge between the importer and the Kubernetes API: read back the
 * imported objects, and write one at a time with optimistic concurrency. One real implementation
 * ({@link KubeImportApi}); tests run it against a fake API server.
 */
interface ImportApi {

  /**
   * Every object meshwire manages (found by its managed-by label), plus every ServiceImport
   * whether managed or not (so an import owned by someone else is seen, and left alone).
   */
  Map<ObjectKey, Observed> list() throws KubeApiException;

  /** One object, managed or not; empty when it does not exist. */
  Optional<Observed> get(ObjectKey key) throws KubeApiException;

  /** Creates {@code object}; 409 when something of that name exists already. */
  void create(ImportedObject object) throws KubeApiException;

  /**
   * Replaces the owned parts of the object with {@code object}'s, if it is still at
   * {@code resourceVersion} and still managed; 409 otherwise.
   */
  void update(ImportedObject object, String resourceVersion) throws KubeApiException;

  /** Deletes the object if it is still at {@code resourceVersion}; 404 counts as done. */
  void delete(ObjectKey key, String resourceVersion) throws KubeApiException;
}
