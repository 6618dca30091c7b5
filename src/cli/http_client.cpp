#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace gs::cli {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Connects within `timeout` (a server that is not there must not stall `run`).
Status connect(asio::io_context& ioc, beast::tcp_stream& stream, const HttpEndpoint& e,
               std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  tcp::resolver resolver(ioc);
  const auto results = resolver.resolve(e.host, e.port, ec);
  if (ec) return Error("cannot resolve {}: {}", e.host, ec.message());
  stream.expires_after(timeout);
  bool done = false;
  stream.async_connect(results, [&](boost::system::error_code error, const tcp::endpoint&) {
    ec = error;
    done = true;
  });
  ioc.run();
  ioc.restart();
  if (!done || ec) return Error("cannot connect to http://{}:{}: {}", e.host, e.port, ec.message());
  stream.expires_never();
  return Status::Ok();
}

http::request<http::string_body> make_request(http::verb verb, const HttpEndpoint& e, const std::string& path,
                                              const std::string& api_key) {
  http::request<http::string_body> req{verb, path, 11};
  req.set(http::field::host, e.host + ":" + e.port);
  req.set(http::field::user_agent, "genstack-run");
  if (!api_key.empty()) req.set(http::field::authorization, "Bearer " + api_key);
  return req;
}

}  // namespace

Result<HttpEndpoint> parse_base_url(std::string_view url) {
  if (url.starts_with("http://")) url.remove_prefix(7);
  if (url.starts_with("https://")) return Error("https is not supported for a local server: {}", url);
  while (url.ends_with('/')) url.remove_suffix(1);
  HttpEndpoint e;
  const size_t colon = url.rfind(':');
  if (colon != std::string_view::npos) {
    e.host = std::string(url.substr(0, colon));
    e.port = std::string(url.substr(colon + 1));
  } else if (!url.empty()) {
    e.host = std::string(url);
  }
  if (e.host.empty() || e.port.empty()) return Error("bad server address '{}'", url);
  return e;
}

Result<HttpResult> http_get(const HttpEndpoint& e, const std::string& path, const std::string& api_key,
                            std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  GS_RETURN_IF_ERROR(connect(ioc, stream, e, timeout));
  auto req = make_request(http::verb::get, e, path, api_key);
  boost::system::error_code ec;
  stream.expires_after(timeout);
  http::async_write(stream, req, [&](boost::system::error_code error, size_t) { ec = error; });
  ioc.run();
  ioc.restart();
  if (ec) return Error("request to {} failed: {}", path, ec.message());
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::async_read(stream, buffer, res, [&](boost::system::error_code error, size_t) { ec = error; });
  ioc.run();
  if (ec) return Error("reading the answer to {} failed: {}", path, ec.message());
  return HttpResult{static_cast<int>(res.result_int()), res.body()};
}

Result<HttpResult> http_post_stream(const HttpEndpoint& e, const std::string& path, const std::string& body,
                                    const std::string& api_key,
                                    const std::function<bool(std::string_view)>& on_data) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  GS_RETURN_IF_ERROR(connect(ioc, stream, e, std::chrono::seconds(5)));
  auto req = make_request(http::verb::post, e, path, api_key);
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  boost::system::error_code ec;
  http::write(stream, req, ec);
  if (ec) return Error("request to {} failed: {}", path, ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  http::read_header(stream, buffer, parser, ec);
  if (ec) return Error("reading the answer to {} failed: {}", path, ec.message());
  HttpResult result{static_cast<int>(parser.get().result_int()), {}};
  char chunk[4096];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof(chunk);
    http::read(stream, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return Error("reading the answer to {} failed: {}", path, ec.message());
    const std::string_view piece(chunk, sizeof(chunk) - parser.get().body().size);
    if (result.status != 200) {
      result.body.append(piece);
    } else if (!piece.empty() && !on_data(piece)) {
      break;
    }
  }
  return result;
}

}  // namespace gs::cli
