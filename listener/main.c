/* main of allora-workerd-listener, the listener process started by the supervisor (roles.h). */
#include "roles.h"

int
main(int argc, char **argv)
{
	return role_main("listener", argc, argv, listener_main);
}
