// The client-side response parser (the gateway's upstream calls), without sockets.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "http/response_parser.h"

namespace gs::http {
namespace {

struct Parsed {
  bool ok = true;
  std::string error;
  std::string body;
  size_t left = 0;  // bytes not consumed
};

// Feeds `input` `step` bytes at a time, keeping what the parser did not use, as a client does.
Parsed feed(ResponseParser& parser, std::string_view input, size_t step = 1 << 20) {
  Parsed out;
  std::string buffer;
  for (size_t at = 0; at < input.size(); at += step) {
    buffer.append(input.substr(at, step));
    auto used = parser.feed(buffer, out.body);
    if (!used.ok()) return {false, used.error(), out.body, 0};
    buffer.erase(0, *used);
  }
  out.left = buffer.size();
  return out;
}

TEST(HttpResponseParser, ContentLengthBodyByteByByte) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
  for (size_t step : {1u, 3u, 1000u}) {
    ResponseParser parser;
    const Parsed p = feed(parser, input, step);
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_TRUE(parser.done());
    EXPECT_EQ(parser.status(), 200);
    EXPECT_EQ(parser.header("content-type"), "application/json");
    EXPECT_EQ(parser.header("CONTENT-TYPE"), "application/json");
    EXPECT_EQ(parser.header("x-missing"), "");
    EXPECT_TRUE(parser.keep_alive());
    EXPECT_EQ(p.body, "{\"a\":1}");
  }
}

TEST(HttpResponseParser, LeavesTheNextResponseAlone) {
  ResponseParser parser;
  const Parsed p = feed(parser, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n");
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(parser.done());
  EXPECT_EQ(p.body, "hi");
  EXPECT_EQ(p.left, 17u);
}

TEST(HttpResponseParser, ChunkedWithExtensionsAndTrailers) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n1A\r\n abcdefghijklmnopqrstuvwxy\r\n0\r\nX-Trailer: 1\r\n\r\n";
  for (size_t step : {1u, 2u, 7u, 1000u}) {
    ResponseParser parser;
    const Parsed p = feed(parser, input, step);
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_TRUE(parser.done());
    EXPECT_EQ(p.body, "hello abcdefghijklmnopqrstuvwxy");
    EXPECT_EQ(p.left, 0u);
  }
}

TEST(HttpResponseParser, BodyWithoutFramingRunsToTheClose) {
  ResponseParser parser;
  const Parsed p = feed(parser, "HTTP/1.0 200 OK\r\n\r\nsome bytes");
  ASSERT_TRUE(p.ok);
  EXPECT_FALSE(parser.done());
  EXPECT_FALSE(parser.keep_alive());
  EXPECT_EQ(p.body, "some bytes");
  EXPECT_TRUE(parser.finish().ok());
  EXPECT_TRUE(parser.done());
}

TEST(HttpResponseParser, AnswersWithoutABody) {
  {
    ResponseParser parser;
    ASSERT_TRUE(feed(parser, "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n").ok);
    EXPECT_TRUE(parser.done());
  }
  {
    ResponseParser parser(/*head_request=*/true);
    ASSERT_TRUE(feed(parser, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n").ok);
    EXPECT_TRUE(parser.done());
  }
  {
    ResponseParser parser;
    ASSERT_TRUE(feed(parser, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").ok);
    EXPECT_TRUE(parser.done());
  }
}

TEST(HttpResponseParser, SkipsInterimAnswers) {
  ResponseParser parser;
  const Parsed p =
      feed(parser, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx", 4);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(parser.status(), 201);
  EXPECT_EQ(p.body, "x");
}

TEST(HttpResponseParser, KeepAliveFollowsVersionAndConnection) {
  auto keep = [](std::string_view head) {
    ResponseParser parser;
    EXPECT_TRUE(feed(parser, head).ok);
    return parser.keep_alive();
  };
  EXPECT_TRUE(keep("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_FALSE(keep("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_FALSE(keep("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_TRUE(keep("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"));
  // Both framings at once: believed chunked, never reused.
  EXPECT_FALSE(keep("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
}

TEST(HttpResponseParser, MalformedInputIsOneError) {
  const char* bad[] = {
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "HTTP/1.1 099 Low\r\n\r\n",
      "HTTP/1.1 200OK\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\n\r\n",
      "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
  };
  for (const char* input : bad) {
    ResponseParser parser;
    const Parsed p = feed(parser, input);
    EXPECT_FALSE(p.ok) << input;
    EXPECT_EQ(p.error.find('\n'), std::string::npos);
  }
}

TEST(HttpResponseParser, BoundsTheHeadAndChunkLines) {
  {
    ResponseParser parser(false, 256);
    EXPECT_FALSE(feed(parser, "HTTP/1.1 200 OK\r\nX: " + std::string(300, 'a')).ok);
  }
  {
    ResponseParser parser;
    EXPECT_FALSE(
        feed(parser, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + std::string(2000, 'x')).ok);
  }
}

TEST(HttpResponseParser, AConnectionThatEndsEarlyIsAnError) {
  {
    ResponseParser parser;
    EXPECT_FALSE(parser.finish().ok());
  }
  {
    ResponseParser parser;
    ASSERT_TRUE(feed(parser, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab").ok);
    EXPECT_FALSE(parser.finish().ok());
  }
  {
    ResponseParser parser;
    ASSERT_TRUE(feed(parser, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n").ok);
    EXPECT_FALSE(parser.finish().ok());
  }
}

}  // namespace
}  // namespace gs::http
