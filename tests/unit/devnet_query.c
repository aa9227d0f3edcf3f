/* devnet_query: common/proto/query.proto encodings against tests/vectors/allora-tx.json "queries". */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "util.h"
#include "query.pb-c.h"

static const char *ADDR = "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv";

static const char *
vec(const char *name)
{
	static json_t *root;
	json_error_t jerr;
	json_t *s;

	if (root == NULL)
		root = json_load_file("tests/vectors/allora-tx.json", 0, &jerr);
	if (root == NULL)
		return NULL;
	s = json_object_get(json_object_get(root, "queries"), name);
	return json_string_value(s);
}

static char *
packed_hex(const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	unsigned char *buf = malloc(n + 1);
	char *h;

	if (buf == NULL)
		return NULL;
	protobuf_c_message_pack(m, buf);
	h = hex_encode(buf, n);
	free(buf);
	return h;
}

T_TEST(topic_requests)
{
	Awq__TopicIdRequest r = AWQ__TOPIC_ID_REQUEST__INIT;
	char *h;

	r.topic_id = 67;
	h = packed_hex(&r.base);
	T_ASSERT(h != NULL && vec("GetUnfulfilledWorkerNoncesRequest_topic67_hex") != NULL);
	T_EQ_STR(h, vec("GetUnfulfilledWorkerNoncesRequest_topic67_hex"));
	T_EQ_STR(h, vec("GetTopicRequest_topic67_hex"));
	free(h);
}

T_TEST(topic_address_requests)
{
	Awq__TopicAddressRequest r = AWQ__TOPIC_ADDRESS_REQUEST__INIT;
	char *h;

	r.topic_id = 67;
	r.address = (char *)ADDR;
	h = packed_hex(&r.base);
	T_ASSERT(h != NULL);
	T_EQ_STR(h, vec("GetWorkerSubmissionWindowStatusRequest_topic67_addr_hex"));
	T_EQ_STR(h, vec("CanSubmitWorkerPayloadRequest_topic67_addr_hex"));
	T_EQ_STR(h, vec("IsWorkerRegisteredInTopicIdRequest_topic67_addr_hex"));
	free(h);
}

T_TEST(account_request)
{
	Awq__QueryAccountInfoRequest r = AWQ__QUERY_ACCOUNT_INFO_REQUEST__INIT;
	Awq__QueryAccountInfoRequest *back;
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	char *h;

	r.address = (char *)ADDR;
	h = packed_hex(&r.base);
	T_ASSERT(h != NULL);
	T_EQ_STR(h, vec("QueryAccountInfoRequest_hex"));
	T_EQ_STR(h, vec("QueryAccountRequest_hex"));
	T_ASSERT(hex_decode(vec("QueryAccountInfoRequest_hex"), &raw, &rawlen) == 0);
	back = awq__query_account_info_request__unpack(NULL, rawlen, raw);
	T_ASSERT(back != NULL);
	T_EQ_STR(back->address, ADDR);
	awq__query_account_info_request__free_unpacked(back, NULL);
	free(raw);
	free(h);
}

T_TEST(garbage_refused)
{
	static const unsigned char bad[] = { 0x0a, 0x7f, 0x61 };	/* length past the end */

	T_CHECK(awq__query_account_info_request__unpack(NULL, sizeof(bad), bad) == NULL);
}

int
main(void)
{
	T_RUN(topic_requests);
	T_RUN(topic_address_requests);
	T_RUN(account_request);
	T_RUN(garbage_refused);
	return t_done();
}
