/* main of allora-workerd-submitter, the submitter process started by the supervisor (roles.h). */
#include "roles.h"

int
main(int argc, char **argv)
{
	return role_main("submitter", argc, argv, submitter_main);
}
