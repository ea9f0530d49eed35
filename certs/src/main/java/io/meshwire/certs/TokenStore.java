package io.meshwire.certs;

import java.time.Duration;
import java.util.List;

/**
 * {@code TokenStore}: where the hub keeps its one-time join tokens (only their hashes). {@link
 * JoinTokens} keeps them in a file for one hub; the hub's etcd store keeps them in etcd, where a
 * token is spent once even when two replicas redeem it at the same moment. Implementations are
 * thread-safe; the token format and the rules (TTL bounds, precedence of rejections) are {@link
 * JoinTokens}'s, shared through its static helpers.
 */
public interface TokenStore {

  /** See {@link JoinTokens#create}. */
  CreatedToken create(String clusterId, Duration ttl);

  /** Every token, oldest first, with its state as of now. */
  List<TokenInfo> list();

  /** See {@link JoinTokens#revoke}. */
  void revoke(String tokenId);

  /** See {@link JoinTokens#check}. */
  TokenInfo check(String token) throws TokenRejectedException;

  /** See {@link JoinTokens#redeem}: spent at most once, whoever else redeems it concurrently. */
  TokenInfo redeem(String token, String clusterId) throws TokenRejectedException;
}
